package normalize

// Gender returns the normalized clear ge: "f" or "m", from common spellings in the languages of the connector's
// customers (English, French, German, Spanish, Italian, Portuguese, Dutch) and the civility titles French CRMs
// store in place of a gender ("Mme", "M.", "Mlle"). Case, accents, spaces and punctuation are ignored. Single
// letters: f, w (weiblich), m, h (homme, hombre). Anything else — including numeric codes such as 1/2, whose
// meaning differs between systems — is invalid.
func Gender(s string) (string, bool) { return stringOf(appendGender(nil, prepare(s))) }

func appendGender(dst []byte, s string) ([]byte, bool) {
	if len(s) > 64 {
		return dst, false
	}
	var buf [64]byte
	key := appendLetters(buf[:0], s)
	g, ok := genders[string(key)]
	if !ok {
		return dst, false
	}
	return append(dst, g), true
}

var genders = map[string]byte{
	"f": 'f', "female": 'f', "femme": 'f', "woman": 'f', "women": 'f', "w": 'f', "frau": 'f', "weiblich": 'f',
	"mujer": 'f', "femenino": 'f', "femenina": 'f', "féminin": 'f', "feminin": 'f', "féminine": 'f',
	"feminine": 'f', "donna": 'f', "femmina": 'f', "femminile": 'f', "feminino": 'f', "mulher": 'f',
	"vrouw": 'f', "vrouwelijk": 'f', "girl": 'f', "fille": 'f', "mme": 'f', "madame": 'f', "mlle": 'f',
	"mademoiselle": 'f', "mrs": 'f', "ms": 'f', "miss": 'f', "sra": 'f', "señora": 'f', "senora": 'f',
	"signora": 'f',

	"m": 'm', "male": 'm', "homme": 'm', "man": 'm', "men": 'm', "h": 'm', "mann": 'm', "männlich": 'm',
	"mannlich": 'm', "maennlich": 'm', "hombre": 'm', "masculino": 'm', "masculin": 'm', "masculine": 'm',
	"uomo": 'm', "maschio": 'm', "maschile": 'm', "homem": 'm', "mannelijk": 'm', "boy": 'm', "garçon": 'm',
	"garcon": 'm', "mr": 'm', "monsieur": 'm', "herr": 'm', "sr": 'm', "señor": 'm', "senor": 'm',
	"signore": 'm',
}

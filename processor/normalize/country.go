package normalize

import "strings"

// Country returns the normalized clear country: the ISO 3166-1 alpha-2 code, lowercase. Accepted: any alpha-2
// code ("FR"), "UK" for "gb", any alpha-3 code ("FRA", "DEU"), and the English and main local names of the
// common countries ("France", "Deutschland", "United States", "U.S.A.", "España", "Royaume-Uni"…). Case,
// spaces and punctuation are ignored. Anything else is invalid: Meta accepts only alpha-2 codes.
func Country(s string) (string, bool) { return stringOf(appendCountry(nil, prepare(s))) }

func appendCountry(dst []byte, s string) ([]byte, bool) {
	if len(s) > 128 {
		return dst, false
	}
	var buf [128]byte
	key := appendLetters(buf[:0], s)
	if len(key) == 2 && 'a' <= key[0] && key[0] <= 'z' && 'a' <= key[1] && key[1] <= 'z' {
		// Most senders write the alpha-2 code itself: a table lookup instead of hashing the key for the map.
		code := countryPairs[int(key[0]-'a')*26+int(key[1]-'a')]
		return append(dst, code...), code != ""
	}
	code, ok := countries[string(key)]
	if !ok {
		return dst, false
	}
	return append(dst, code...), true
}

// countryPairs is countries restricted to its keys of two ASCII letters ("fr", "uk"), indexed by letter pair;
// "" for a pair that is not a key. Read-only after package initialization.
var countryPairs = func() (t [26 * 26]string) {
	for key, code := range countries {
		if len(key) == 2 && 'a' <= key[0] && key[0] <= 'z' && 'a' <= key[1] && key[1] <= 'z' {
			t[int(key[0]-'a')*26+int(key[1]-'a')] = code
		}
	}
	return t
}()

// countries maps every accepted key (letters-only lowercase) to its lowercase alpha-2 code. Read-only after
// package initialization.
var countries = buildCountries()

func buildCountries() map[string]string {
	// Each word of isoCountryNames ends with a space; every code stands there once, as in iso3166.
	isoNames := strings.Count(isoCountryNames, " ") - len(iso3166)/7
	m := make(map[string]string, 2*len(iso3166)/7+isoNames+len(countryNames))
	for i := 0; i+7 <= len(iso3166); i += 7 {
		a2, a3 := iso3166[i:i+2], iso3166[i+3:i+6]
		m[a2], m[a3] = a2, a2
	}
	code := ""
	for w := range strings.FieldsSeq(isoCountryNames) {
		if len(w) == 2 {
			code = w
			continue
		}
		m[w] = code
	}
	for name, code := range countryNames {
		m[name] = code
	}
	return m
}

// iso3166 lists ISO 3166-1 "alpha2 alpha3" pairs (all 249 officially assigned codes), lowercase.
const iso3166 = "" +
	"ad and ae are af afg ag atg ai aia al alb am arm ao ago aq ata ar arg as asm at aut au aus aw abw ax ala " +
	"az aze ba bih bb brb bd bgd be bel bf bfa bg bgr bh bhr bi bdi bj ben bl blm bm bmu bn brn bo bol bq bes " +
	"br bra bs bhs bt btn bv bvt bw bwa by blr bz blz ca can cc cck cd cod cf caf cg cog ch che ci civ ck cok " +
	"cl chl cm cmr cn chn co col cr cri cu cub cv cpv cw cuw cx cxr cy cyp cz cze de deu dj dji dk dnk dm dma " +
	"do dom dz dza ec ecu ee est eg egy eh esh er eri es esp et eth fi fin fj fji fk flk fm fsm fo fro fr fra " +
	"ga gab gb gbr gd grd ge geo gf guf gg ggy gh gha gi gib gl grl gm gmb gn gin gp glp gq gnq gr grc gs sgs " +
	"gt gtm gu gum gw gnb gy guy hk hkg hm hmd hn hnd hr hrv ht hti hu hun id idn ie irl il isr im imn in ind " +
	"io iot iq irq ir irn is isl it ita je jey jm jam jo jor jp jpn ke ken kg kgz kh khm ki kir km com kn kna " +
	"kp prk kr kor kw kwt ky cym kz kaz la lao lb lbn lc lca li lie lk lka lr lbr ls lso lt ltu lu lux lv lva " +
	"ly lby ma mar mc mco md mda me mne mf maf mg mdg mh mhl mk mkd ml mli mm mmr mn mng mo mac mp mnp mq mtq " +
	"mr mrt ms msr mt mlt mu mus mv mdv mw mwi mx mex my mys mz moz na nam nc ncl ne ner nf nfk ng nga ni nic " +
	"nl nld no nor np npl nr nru nu niu nz nzl om omn pa pan pe per pf pyf pg png ph phl pk pak pl pol pm spm " +
	"pn pcn pr pri ps pse pt prt pw plw py pry qa qat re reu ro rou rs srb ru rus rw rwa sa sau sb slb sc syc " +
	"sd sdn se swe sg sgp sh shn si svn sj sjm sk svk sl sle sm smr sn sen so som sr sur ss ssd st stp sv slv " +
	"sx sxm sy syr sz swz tc tca td tcd tf atf tg tgo th tha tj tjk tk tkl tl tls tm tkm tn tun to ton tr tur " +
	"tt tto tv tuv tw twn tz tza ua ukr ug uga um umi us usa uy ury uz uzb va vat vc vct ve ven vg vgb vi vir " +
	"vn vnm vu vut wf wlf ws wsm ye yem yt myt za zaf zm zmb zw zwe "

// countryNames maps the letters-only form of common country names (English, the local language, and French,
// German, Spanish and Italian for the connector's European customers) to alpha-2 codes. Keys must be what
// appendLetters produces.
var countryNames = map[string]string{
	"uk": "gb", "unitedkingdom": "gb", "greatbritain": "gb", "britain": "gb", "england": "gb", "scotland": "gb",
	"wales": "gb", "northernireland": "gb", "royaumeuni": "gb", "grandebretagne": "gb", "angleterre": "gb",
	"vereinigteskönigreich": "gb", "großbritannien": "gb", "reinounido": "gb", "regnounito": "gb",

	"unitedstates": "us", "unitedstatesofamerica": "us", "america": "us", "étatsunis": "us", "etatsunis": "us",
	"étatsunisdamérique": "us", "vereinigtestaaten": "us", "estadosunidos": "us", "statiuniti": "us",

	"france": "fr", "frankreich": "fr", "francia": "fr", "frança": "fr", "franca": "fr",

	"germany": "de", "deutschland": "de", "allemagne": "de", "alemania": "de", "germania": "de", "alemanha": "de",

	"spain": "es", "españa": "es", "espana": "es", "espagne": "es", "spanien": "es", "spagna": "es",

	"italy": "it", "italia": "it", "italie": "it", "italien": "it",

	"belgium": "be", "belgique": "be", "belgië": "be", "belgie": "be", "belgien": "be", "bélgica": "be",
	"belgica": "be", "belgio": "be",

	"switzerland": "ch", "suisse": "ch", "schweiz": "ch", "svizzera": "ch", "suiza": "ch",

	"netherlands": "nl", "thenetherlands": "nl", "nederland": "nl", "holland": "nl", "paysbas": "nl",
	"niederlande": "nl", "paísesbajos": "nl", "paisesbajos": "nl", "paesibassi": "nl",

	"luxembourg": "lu", "luxemburg": "lu", "lussemburgo": "lu", "luxemburgo": "lu",

	"austria": "at", "österreich": "at", "osterreich": "at", "autriche": "at",

	"portugal": "pt",

	"ireland": "ie", "irlande": "ie", "éire": "ie", "eire": "ie", "irland": "ie", "irlanda": "ie",

	"canada": "ca", "kanada": "ca",

	"australia": "au", "australie": "au", "australien": "au",

	"newzealand": "nz", "nouvellezélande": "nz",

	"poland": "pl", "polska": "pl", "pologne": "pl", "polen": "pl", "polonia": "pl",

	"sweden": "se", "sverige": "se", "suède": "se", "schweden": "se", "suecia": "se", "svezia": "se",

	"norway": "no", "norge": "no", "norvège": "no", "norwegen": "no", "noruega": "no",

	"denmark": "dk", "danmark": "dk", "danemark": "dk", "dänemark": "dk", "dinamarca": "dk",

	"finland": "fi", "suomi": "fi", "finlande": "fi", "finnland": "fi", "finlandia": "fi",

	"greece": "gr", "hellas": "gr", "ελλάδα": "gr", "grèce": "gr", "griechenland": "gr", "grecia": "gr",

	"czechia": "cz", "czechrepublic": "cz", "česko": "cz", "cesko": "cz", "tchéquie": "cz",
	"républiquetchèque": "cz", "tschechien": "cz",

	"romania": "ro", "românia": "ro", "roumanie": "ro", "rumänien": "ro", "rumania": "ro",

	"hungary": "hu", "magyarország": "hu", "hongrie": "hu", "ungarn": "hu",

	"russia": "ru", "russianfederation": "ru", "россия": "ru", "russie": "ru", "russland": "ru",

	"ukraine": "ua", "україна": "ua",

	"croatia": "hr", "hrvatska": "hr", "croatie": "hr",

	"slovenia": "si", "slovenija": "si",

	"slovakia": "sk", "slovensko": "sk",

	"bulgaria": "bg",

	"serbia": "rs",

	"iceland": "is", "ísland": "is",

	"estonia": "ee",

	"latvia": "lv",

	"lithuania": "lt",

	"malta": "mt",

	"cyprus": "cy", "chypre": "cy",

	"monaco": "mc",

	"andorra": "ad", "andorre": "ad",

	"turkey": "tr", "türkiye": "tr", "turkiye": "tr", "turquie": "tr", "türkei": "tr",

	"morocco": "ma", "maroc": "ma", "marruecos": "ma",

	"algeria": "dz", "algérie": "dz", "algerie": "dz",

	"tunisia": "tn", "tunisie": "tn",

	"senegal": "sn", "sénégal": "sn",

	"ivorycoast": "ci", "côtedivoire": "ci", "cotedivoire": "ci",

	"cameroon": "cm", "cameroun": "cm",

	"egypt": "eg", "égypte": "eg", "egypte": "eg",

	"southafrica": "za",

	"israel": "il", "israël": "il",

	"unitedarabemirates": "ae", "uae": "ae", "émiratsarabesunis": "ae",

	"saudiarabia": "sa", "arabiesaoudite": "sa",

	"japan": "jp", "nippon": "jp", "japon": "jp",

	"china": "cn", "chine": "cn",

	"india": "in", "inde": "in",

	"southkorea": "kr", "korea": "kr", "republicofkorea": "kr", "coréedusud": "kr",

	"singapore": "sg", "singapour": "sg",

	"hongkong": "hk",

	"taiwan": "tw",

	"brazil": "br", "brasil": "br", "brésil": "br",

	"mexico": "mx", "méxico": "mx", "mexique": "mx",

	"argentina": "ar", "argentine": "ar",

	"chile": "cl", "chili": "cl",

	"colombia": "co", "colombie": "co",

	"peru": "pe", "perú": "pe", "pérou": "pe",

	"réunion": "re", "reunion": "re", "lareunion": "re", "laréunion": "re",

	"guadeloupe": "gp",

	"martinique": "mq",

	"guyane": "gf", "frenchguiana": "gf",

	"mayotte": "yt",

	"nouvellecalédonie": "nc", "newcaledonia": "nc",

	"polynésiefrançaise": "pf", "frenchpolynesia": "pf",
}

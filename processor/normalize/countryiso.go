package normalize

// isoCountryNames holds the letters-only form of the English short, common and official names of every ISO 3166-1
// country ("Viet Nam", "Korea, Republic of", "Bolivia, Plurinational State of", "Republic of Zimbabwe"), as the
// ISO 3166 Maintenance Agency publishes them (taken from the iso-codes data that pycountry ships), grouped by
// alpha-2 code: each lowercase code, then its names (all longer than two letters), separated by spaces, as iso3166
// is written. buildCountries reads it once into countries; countryNames adds the usual English and local spellings.
const isoCountryNames = "" +
	"ad andorra principalityofandorra ae unitedarabemirates af afghanistan islamicrepublicofafghanistan ag " +
	"antiguaandbarbuda ai anguilla al albania republicofalbania am armenia republicofarmenia ao angola " +
	"republicofangola aq antarctica ar argentina argentinerepublic as americansamoa at austria republicofaustria au " +
	"australia aw aruba ax ålandislands az azerbaijan republicofazerbaijan ba bosniaandherzegovina " +
	"republicofbosniaandherzegovina bb barbados bd bangladesh peoplesrepublicofbangladesh be belgium " +
	"kingdomofbelgium bf burkinafaso bg bulgaria republicofbulgaria bh bahrain kingdomofbahrain bi burundi " +
	"republicofburundi bj benin republicofbenin bl saintbarthélemy bm bermuda bn bruneidarussalam bo bolivia " +
	"boliviaplurinationalstateof plurinationalstateofbolivia bq bonairesinteustatiusandsaba br brazil " +
	"federativerepublicofbrazil bs bahamas commonwealthofthebahamas bt bhutan kingdomofbhutan bv bouvetisland bw " +
	"botswana republicofbotswana by belarus republicofbelarus bz belize ca canada cc cocoskeelingislands cd " +
	"congothedemocraticrepublicofthe cf centralafricanrepublic cg congo republicofthecongo ch swissconfederation " +
	"switzerland ci côtedivoire republicofcôtedivoire ck cookislands cl chile republicofchile cm cameroon " +
	"republicofcameroon cn china peoplesrepublicofchina co colombia republicofcolombia cr costarica " +
	"republicofcostarica cu cuba republicofcuba cv caboverde republicofcaboverde cw curaçao cx christmasisland cy " +
	"cyprus republicofcyprus cz czechia czechrepublic de federalrepublicofgermany germany dj djibouti " +
	"republicofdjibouti dk denmark kingdomofdenmark dm commonwealthofdominica dominica do dominicanrepublic dz " +
	"algeria peoplesdemocraticrepublicofalgeria ec ecuador republicofecuador ee estonia republicofestonia eg " +
	"arabrepublicofegypt egypt eh westernsahara er eritrea thestateoferitrea es kingdomofspain spain et ethiopia " +
	"federaldemocraticrepublicofethiopia fi finland republicoffinland fj fiji republicoffiji fk " +
	"falklandislandsmalvinas fm federatedstatesofmicronesia micronesiafederatedstatesof fo faroeislands fr france " +
	"frenchrepublic ga gabon gaboneserepublic gb unitedkingdom unitedkingdomofgreatbritainandnorthernireland gd " +
	"grenada ge georgia gf frenchguiana gg guernsey gh ghana republicofghana gi gibraltar gl greenland gm gambia " +
	"republicofthegambia gn guinea republicofguinea gp guadeloupe gq equatorialguinea republicofequatorialguinea gr " +
	"greece hellenicrepublic gs southgeorgiaandthesouthsandwichislands gt guatemala republicofguatemala gu guam gw " +
	"guineabissau republicofguineabissau gy guyana republicofguyana hk hongkong " +
	"hongkongspecialadministrativeregionofchina hm heardislandandmcdonaldislands hn honduras republicofhonduras hr " +
	"croatia republicofcroatia ht haiti republicofhaiti hu hungary id indonesia republicofindonesia ie ireland il " +
	"israel stateofisrael im isleofman in india republicofindia io britishindianoceanterritory iq iraq " +
	"republicofiraq ir iran iranislamicrepublicof islamicrepublicofiran is iceland republicoficeland it " +
	"italianrepublic italy je jersey jm jamaica jo hashemitekingdomofjordan jordan jp japan ke kenya republicofkenya " +
	"kg kyrgyzrepublic kyrgyzstan kh cambodia kingdomofcambodia ki kiribati republicofkiribati km comoros " +
	"unionofthecomoros kn saintkittsandnevis kp democraticpeoplesrepublicofkorea koreademocraticpeoplesrepublicof " +
	"northkorea kr korearepublicof southkorea kw kuwait stateofkuwait ky caymanislands kz kazakhstan " +
	"republicofkazakhstan la laopeoplesdemocraticrepublic laos lb lebaneserepublic lebanon lc saintlucia li " +
	"liechtenstein principalityofliechtenstein lk democraticsocialistrepublicofsrilanka srilanka lr liberia " +
	"republicofliberia ls kingdomoflesotho lesotho lt lithuania republicoflithuania lu grandduchyofluxembourg " +
	"luxembourg lv latvia republicoflatvia ly libya ma kingdomofmorocco morocco mc monaco principalityofmonaco md " +
	"moldova moldovarepublicof republicofmoldova me montenegro mf saintmartinfrenchpart mg madagascar " +
	"republicofmadagascar mh marshallislands republicofthemarshallislands mk northmacedonia republicofnorthmacedonia " +
	"ml mali republicofmali mm myanmar republicofmyanmar mn mongolia mo macao " +
	"macaospecialadministrativeregionofchina mp commonwealthofthenorthernmarianaislands northernmarianaislands mq " +
	"martinique mr islamicrepublicofmauritania mauritania ms montserrat mt malta republicofmalta mu mauritius " +
	"republicofmauritius mv maldives republicofmaldives mw malawi republicofmalawi mx mexico unitedmexicanstates my " +
	"malaysia mz mozambique republicofmozambique na namibia republicofnamibia nc newcaledonia ne niger " +
	"republicoftheniger nf norfolkisland ng federalrepublicofnigeria nigeria ni nicaragua republicofnicaragua nl " +
	"kingdomofthenetherlands netherlands no kingdomofnorway norway np federaldemocraticrepublicofnepal nepal nr " +
	"nauru republicofnauru nu niue nz newzealand om oman sultanateofoman pa panama republicofpanama pe peru " +
	"republicofperu pf frenchpolynesia pg independentstateofpapuanewguinea papuanewguinea ph philippines " +
	"republicofthephilippines pk islamicrepublicofpakistan pakistan pl poland republicofpoland pm " +
	"saintpierreandmiquelon pn pitcairn pr puertorico ps palestinestateof thestateofpalestine pt portugal " +
	"portugueserepublic pw palau republicofpalau py paraguay republicofparaguay qa qatar stateofqatar re réunion ro " +
	"romania rs republicofserbia serbia ru russianfederation rw rwanda rwandeserepublic sa kingdomofsaudiarabia " +
	"saudiarabia sb solomonislands sc republicofseychelles seychelles sd republicofthesudan sudan se kingdomofsweden " +
	"sweden sg republicofsingapore singapore sh sainthelenaascensionandtristandacunha si republicofslovenia slovenia " +
	"sj svalbardandjanmayen sk slovakia slovakrepublic sl republicofsierraleone sierraleone sm republicofsanmarino " +
	"sanmarino sn republicofsenegal senegal so federalrepublicofsomalia somalia sr republicofsuriname suriname ss " +
	"republicofsouthsudan southsudan st democraticrepublicofsaotomeandprincipe saotomeandprincipe sv elsalvador " +
	"republicofelsalvador sx sintmaartendutchpart sy syria syrianarabrepublic sz eswatini kingdomofeswatini tc " +
	"turksandcaicosislands td chad republicofchad tf frenchsouthernterritories tg togo togoleserepublic th " +
	"kingdomofthailand thailand tj republicoftajikistan tajikistan tk tokelau tl democraticrepublicoftimorleste " +
	"timorleste tm turkmenistan tn republicoftunisia tunisia to kingdomoftonga tonga tr republicoftürkiye türkiye tt " +
	"republicoftrinidadandtobago trinidadandtobago tv tuvalu tw taiwan taiwanprovinceofchina tz tanzania " +
	"tanzaniaunitedrepublicof unitedrepublicoftanzania ua ukraine ug republicofuganda uganda um " +
	"unitedstatesminoroutlyingislands us unitedstates unitedstatesofamerica uy easternrepublicofuruguay uruguay uz " +
	"republicofuzbekistan uzbekistan va holyseevaticancitystate vc saintvincentandthegrenadines ve " +
	"bolivarianrepublicofvenezuela venezuela venezuelabolivarianrepublicof vg britishvirginislands " +
	"virginislandsbritish vi virginislandsoftheunitedstates virginislandsus vn socialistrepublicofvietnam vietnam vu " +
	"republicofvanuatu vanuatu wf wallisandfutuna ws independentstateofsamoa samoa ye republicofyemen yemen yt " +
	"mayotte za republicofsouthafrica southafrica zm republicofzambia zambia zw republicofzimbabwe zimbabwe "

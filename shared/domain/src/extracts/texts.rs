//! The Swedish texts of extracts: the information GDPR art. 15 requires with a
//! registerutdrag (purposes, legal basis, categories, recipients, storage period,
//! sources, rights), and the names of anomaly kinds.

use crate::reads::analysis::AnomalyKind;

pub const REGISTER_TITLE: &str = "Registerutdrag enligt artikel 15 i dataskyddsförordningen (GDPR)";
pub const AUTHORITY_TITLE: &str = "Underlag till Skatteverket – elektronisk personalliggare";

pub const PURPOSES: &str = "Uppgifterna behandlas för att fullgöra skyldigheten att föra elektronisk \
personalliggare i byggverksamhet (39 kap. 11–12 §§ skatteförfarandelagen) och att hålla den \
tillgänglig för Skatteverket vid kontrollbesök och för byggherren; för att bevara den så länge \
lagen kräver; och för att företaget ska kunna se arbetspass, upptäcka dubbel- och felregistreringar \
och ta fram statistik och underlag till Skatteverket.";

pub const LEGAL_BASIS: &str = "Rättslig förpliktelse, artikel 6.1 c i dataskyddsförordningen \
(GDPR): 39 kap. 11–12 §§ skatteförfarandelagen (2011:1244), 9 kap. 5 § skatteförfarandeförordningen \
(2011:1261) och Skatteverkets föreskrifter SKVFS 2015:6. Personnummer och samordningsnummer \
behandlas eftersom lagen kräver säker identifiering av den som är verksam på byggarbetsplatsen \
(3 kap. 10 § lagen (2018:218) med kompletterande bestämmelser till EU:s dataskyddsförordning).";

pub const CATEGORIES: &str = "Namn; personnummer, samordningsnummer eller utländskt \
identitetsnummer med land; byggarbetsplatsens identitet (Skatteverkets byggarbetsplats-id); \
tidpunkter för in- och utpassering; ID06-kortnummer och arbetsgivarens organisationsnummer när \
de lämnats; hur registreringen gjordes (kort, app eller manuellt) och av vem; när den registrerades \
och togs emot; rättelser och återkallelser med vem som gjorde dem och när; avvikelser som Stamp \
funnit (t.ex. dubbelregistrering eller saknad utpassering).";

pub const RECIPIENTS: &str = "Skatteverket, vid kontrollbesök och när Skatteverket begär underlag \
efter ett kontrollbesök. Byggherren, som enligt 39 kap. 12 § skatteförfarandelagen ska ha \
tillgång till personalliggaren för byggarbetsplatsen. Stamp lagrar uppgifterna som \
personuppgiftsbiträde åt företaget. I övrigt lämnas uppgifterna ut bara när lag eller domstol \
kräver det (till exempel ett editionsföreläggande).";

pub const STORAGE_PERIOD: &str = "Uppgifterna bevaras till och med två år efter utgången av det \
kalenderår då företagets räkenskapsår (beskattningsår) gick ut, enligt bevarandekravet för \
personalliggare (9 kap. skatteförfarandeförordningen). För varje registrering anges sista dag \
(\"sparas t.o.m.\"). Därefter raderas uppgifterna ur Stamps register och arkiv, om de inte \
omfattas av ett beslut om bevarande för en rättslig process.";

pub const SOURCES: &str = "Uppgifterna kommer från de personalliggarsystem (partner) som \
registrerade in- och utpasseringarna på byggarbetsplatserna och levererade dem till Stamp. \
Varje leverans arkiveras oförändrad.";

pub const RIGHTS: &str = "Du har rätt att få rättelse av felaktiga uppgifter (artikel 16). En \
registrering i personalliggaren ändras aldrig i efterhand; den rättas genom en ny registrering \
som visar vem som gjorde rättelsen och när, och båda finns kvar. Vänd dig till företaget \
(personuppgiftsansvarig) ovan. Du kan också lämna klagomål till Integritetsskyddsmyndigheten \
(IMY). Registerutdraget är kostnadsfritt.";

pub const NO_DATA: &str = "Stamp har inga uppgifter om dig i något företags personalliggare.";

/// An anomaly kind in Swedish.
pub fn anomaly_sv(kind: AnomalyKind) -> &'static str {
    match kind {
        AnomalyKind::Duplicate => "dubbelregistrering",
        AnomalyKind::MissingCheckOut => "utpassering saknas",
        AnomalyKind::MissingCheckIn => "inpassering saknas",
        AnomalyKind::LongSession => "arbetspass längre än 12 timmar",
        AnomalyKind::FutureEvent => "registrerad före tidpunkten",
        AnomalyKind::LateEntry => "registrerad i efterhand (mer än 1 timme)",
        AnomalyKind::InvalidPersonId => "ogiltigt personnummer",
    }
}

/// "in" / "ut".
pub fn direction_sv(d: crate::model::Direction) -> &'static str {
    match d {
        crate::model::Direction::In => "in",
        crate::model::Direction::Out => "ut",
    }
}

pub fn source_sv(s: crate::model::Source) -> &'static str {
    match s {
        crate::model::Source::Card => "kort",
        crate::model::Source::App => "app",
        crate::model::Source::Manual => "manuell",
    }
}

/// `7 h 05 min`.
pub fn hours_minutes(minutes: i64) -> String {
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests;

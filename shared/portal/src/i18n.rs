//! Translation tables: every text the portal shows, in Swedish (the default) and
//! English. A test fails when a key is missing in either table, or when the code uses
//! a key neither has.

use http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Sv,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Sv => Lang::En,
            Lang::En => Lang::Sv,
        }
    }

    pub fn parse(raw: &str) -> Option<Lang> {
        match raw {
            "sv" => Some(Lang::Sv),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `?lang=`, else the remembered cookie, else Swedish.
    pub fn from_request(headers: &HeaderMap, query: Option<&str>) -> Lang {
        query_lang(query)
            .or_else(|| {
                crate::session::read_cookie(headers, crate::session::LANG_COOKIE)
                    .and_then(Lang::parse)
            })
            .unwrap_or(Lang::Sv)
    }
}

pub fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// The text for `key`; a missing key shows as itself (the tests keep that from
/// happening).
pub fn t(lang: Lang, key: &str) -> &'static str {
    let table = match lang {
        Lang::Sv => SV,
        Lang::En => EN,
    };
    table
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| {
            tracing::warn!(key, "missing translation");
            "?"
        })
}

pub static SV: &[(&str, &str)] = &[
    ("nav.label", "Huvudmeny"),
    ("nav.skip", "Hoppa till innehållet"),
    ("nav.home", "Till startsidan"),
    ("nav.overview", "Översikt"),
    ("nav.people", "Personer"),
    ("nav.anomalies", "Avvikelser"),
    ("nav.statistics", "Statistik"),
    ("nav.extracts", "Utdrag"),
    ("nav.users", "Användare"),
    ("nav.activation", "Aktivering"),
    ("nav.holds", "Bevarandebeslut"),
    ("nav.audit", "Granskningslogg"),
    ("nav.me", "Mina registreringar"),
    ("nav.partners", "Partner"),
    ("nav.announcements", "Driftmeddelanden"),
    ("nav.privacy", "Integritetsmeddelande"),
    ("nav.switch", "In English"),
    ("nav.logout", "Logga ut"),
    ("login.title", "Logga in"),
    ("login.local_only", "Endast lokalt"),
    ("login.local_note", "Den här inloggningen finns bara i stamp-local. Välj en demoidentitet; i AWS loggar du in hos er identitetsleverantör."),
    ("login.operator", "Operatör"),
    ("login.company_admin", "Företagsadministratör (Demobygg)"),
    ("login.company_user", "Företagsanvändare (Demobygg)"),
    ("login.employee", "Anställd (en person i Demobygg)"),
    ("login.again", "Logga in igen"),
    ("logout.title", "Utloggad"),
    ("logout.done", "Du är utloggad."),
    ("err400.title", "Felaktig begäran"),
    ("err400.what", "Uppgifterna i begäran kunde inte läsas."),
    ("err400.todo", "Gå tillbaka och kontrollera det du fyllde i."),
    ("err403.title", "Åtkomst nekad"),
    ("err403.what", "Du har inte behörighet till den här sidan, eller så har formuläret gått ut."),
    ("err403.todo", "Gå tillbaka och försök igen. Behöver du åtkomst, kontakta företagets administratör."),
    ("err404.title", "Sidan finns inte"),
    ("err404.what", "Det finns ingen sida eller uppgift på den här adressen."),
    ("err404.todo", "Kontrollera adressen eller gå till startsidan."),
    ("err409.title", "Går inte att genomföra"),
    ("err409.what", "Ändringen krockar med det som redan finns."),
    ("err409.todo", "Ladda om sidan och försök igen."),
    ("err500.title", "Något gick fel"),
    ("err500.what", "Ett fel uppstod hos oss."),
    ("err500.todo", "Försök igen om en stund."),
    ("err503.title", "Tillfälligt otillgänglig"),
    ("err503.what", "Tjänsten kan inte svara just nu."),
    ("err503.todo", "Vänta en stund och försök igen. Inget av det du gjorde har gått förlorat."),
    ("form.invalid", "Ogiltigt värde"),
    ("form.missing", "Fältet måste fyllas i"),
    ("form.conflict", "Ändringen krockar med det som redan finns"),
    ("common.none", "Inget att visa."),
    ("common.count", "Antal"),
    ("common.from", "Från"),
    ("common.to", "Till"),
    ("common.show", "Visa"),
    ("common.search", "Sök"),
    ("common.find", "Hitta"),
    ("common.more", "Visa fler"),
    ("common.all", "Alla"),
    ("common.site", "Byggarbetsplats"),
    ("common.day", "Dag"),
    ("common.in", "In"),
    ("common.out", "Ut"),
    ("common.duration", "Tid"),
    ("common.when", "Tidpunkt"),
    ("common.direction", "Riktning"),
    ("common.dir_in", "Incheckning"),
    ("common.dir_out", "Utcheckning"),
    ("common.actions", "Åtgärder"),
    ("common.optional", "(frivilligt)"),
    ("common.truncated", "Listan är avkortad; välj en kortare period."),
    ("overview.title", "Översikt"),
    ("overview.sites", "Byggarbetsplatser"),
    ("overview.last30", "Senaste 30 dagarna"),
    ("overview.anomalies", "Avvikelser per typ (30 dagar)"),
    ("overview.health", "Leveranser från partner"),
    ("site.title", "Byggarbetsplats"),
    ("site.last_seen", "senast"),
    ("site.present", "På plats nu"),
    ("site.present_note", "Incheckade utan utcheckning de senaste 16 timmarna. Kan skrivas ut som utrymningslista."),
    ("site.print", "Skriv ut utrymningslista"),
    ("health.received", "Mottagna"),
    ("health.rejected", "Avvisade"),
    ("health.last", "Senaste leverans"),
    ("kind.duplicate", "Dubbelregistrering"),
    ("kind.missing_check_out", "Utcheckning saknas"),
    ("kind.missing_check_in", "Incheckning saknas"),
    ("kind.long_session", "Ovanligt långt pass"),
    ("kind.future_event", "Tidpunkt i framtiden"),
    ("kind.late_entry", "Sent inlämnad"),
    ("kind.invalid_person_id", "Ogiltigt personnummer"),
    ("kind.other", "Annat"),
    ("reason.missing_check_in", "Incheckning saknas"),
    ("reason.missing_check_out", "Utcheckning saknas"),
    ("reason.on_site", "På plats"),
    ("people.title", "Personer"),
    ("people.search_name", "Sök på namn"),
    ("people.employer", "Arbetsgivare (organisationsnummer)"),
    ("people.search_id", "Sök på personnummer"),
    ("people.name", "Namn"),
    ("people.id", "Personnummer (maskerat)"),
    ("people.not_found", "Ingen med det numret finns i företagets personalliggare"),
    ("person.title", "Person"),
    ("person.sessions_by_day", "Arbetspass per dag"),
    ("person.unpaired", "Oparade registreringar"),
    ("person.duplicates", "Dubbletter"),
    ("person.corrections", "Rättelser"),
    ("person.reason", "Orsak"),
    ("person.duplicate_of", "Dubblett av"),
    ("person.corrected_by", "Rättad av"),
    ("person.corrected_at", "Rättad"),
    ("person.changes", "Ändrat"),
    ("person.voided", "Makulerad"),
    ("person.order_extract", "Beställ registerutdrag för personen"),
    ("anomalies.title", "Avvikelser"),
    ("anomalies.kind", "Typ"),
    ("stats.title", "Statistik"),
    ("stats.granularity", "Indelning"),
    ("stats.day", "Dag"),
    ("stats.week", "Vecka"),
    ("stats.month", "Månad"),
    ("stats.hours", "Timmar"),
    ("stats.sessions", "Arbetspass"),
    ("stats.persons", "Personer"),
    ("stats.period", "Period"),
    ("stats.table", "Siffrorna i diagrammen"),
    ("stats.csv", "Ladda ner som CSV"),
    ("extracts.title", "Beställ utdrag"),
    ("extracts.one", "Utdrag"),
    ("extracts.kind", "Sort"),
    ("extracts.register", "Registerutdrag för en person"),
    ("extracts.authority", "Underlag till Skatteverket"),
    ("extracts.person", "Person"),
    ("extracts.everyone", "Alla (endast underlag)"),
    ("extracts.authority_only", "(underlag)"),
    ("extracts.format", "Format"),
    ("extracts.order", "Beställ"),
    ("extracts.status", "Status"),
    ("extracts.pending", "Tas fram"),
    ("extracts.ready", "Klart"),
    ("extracts.failed", "Misslyckades"),
    ("extracts.download", "Ladda ner"),
    ("extracts.link_note", "Länken gäller i fem minuter; ladda om sidan för en ny."),
    ("extracts.wait", "Utdraget tas fram. Sidan uppdateras av sig själv."),
    ("extracts.refresh", "Uppdatera"),
    ("users.title", "Användare och roller"),
    ("users.sub", "Användar-id (sub)"),
    ("users.roles", "Roller"),
    ("users.granted", "Beviljad"),
    ("users.change", "Spara roller"),
    ("users.remove", "Ta bort"),
    ("users.grant", "Ge en användare åtkomst"),
    ("users.last_admin", "Företaget måste ha minst en företagsadministratör. Utse en annan administratör först."),
    ("role.company_admin", "Företagsadministratör"),
    ("role.company_user", "Företagsanvändare"),
    ("activation.title", "Aktivering och villkor"),
    ("activation.company", "Företag"),
    ("activation.status", "Status"),
    ("activation.active", "Aktivt"),
    ("activation.deregistered", "Avregistrerat"),
    ("activation.terms_version", "Villkorsversion"),
    ("activation.accepted_at", "Villkoren godkända"),
    ("activation.month", "Räkenskapsårets sista månad (1–12)"),
    ("activation.deregistered_at", "Avregistrerat"),
    ("activation.not_yet", "Företaget har inte aktiverat Stamp."),
    ("activation.terms", "Villkor, version"),
    ("activation.company_name", "Företagets namn"),
    ("activation.accept", "Jag godkänner villkoren, version"),
    ("activation.submit", "Aktivera / godkänn villkoren"),
    ("terms.text", "Stamp förvarar företagets elektroniska personalliggare för byggarbetsplatser enligt 39 kap. skatteförfarandelagen. Stamp är personuppgiftsbiträde; företaget är personuppgiftsansvarigt.\n\nUppgifterna bevaras till och med andra året efter utgången av det kalenderår då räkenskapsåret gick ut, och raderas sedan om inget bevarandebeslut hindrar det.\n\nFöretaget ansvarar för att de som registreras informeras, och för vilka användare som får åtkomst."),
    ("dereg.title", "Avregistrera företaget"),
    ("dereg.what", "Efter avregistrering tas inga leveranser emot. Uppgifterna finns kvar tills bevarandetiden gått ut."),
    ("dereg.confirm", "Jag förstår och vill avregistrera företaget"),
    ("dereg.submit", "Avregistrera"),
    ("dereg.done", "Företaget är avregistrerat. Spara kvittot."),
    ("dereg.receipt", "Kvitto på avregistrering"),
    ("dereg.by", "Avregistrerat av"),
    ("dereg.imports", "Leveranser"),
    ("dereg.imports_text", "tas inte emot från och med nu"),
    ("dereg.data", "Uppgifter"),
    ("dereg.data_text", "bevaras tills varje registrerings bevarandetid gått ut, raderas sedan"),
    ("holds.title", "Bevarandebeslut"),
    ("holds.scope", "Omfattning"),
    ("holds.reason", "Skäl"),
    ("holds.placed", "Beslutat"),
    ("holds.person", "Person (person_ref)"),
    ("holds.active", "Gäller"),
    ("holds.lifted", "Hävt"),
    ("holds.lift", "Häv"),
    ("holds.place", "Nytt bevarandebeslut"),
    ("audit.title", "Granskningslogg"),
    ("audit.actor", "Vem"),
    ("audit.action", "Åtgärd"),
    ("audit.target", "Gällde"),
    ("audit.outcome", "Utfall"),
    ("me.title", "Mina registreringar"),
    ("me.none", "Ingen personalliggare i Stamp innehåller dig under perioden."),
    ("me.extract", "Mitt registerutdrag"),
    ("me.extract_note", "Ett utdrag över allt Stamp har om dig, i alla företag. Det är kostnadsfritt."),
    ("partners.title", "Partner"),
    ("partners.id", "Partner-id"),
    ("partners.name", "Namn"),
    ("partners.feed", "Flödesadress"),
    ("partners.accredited", "Ackrediterad"),
    ("partners.active", "Aktiv"),
    ("partners.suspended", "Avstängd"),
    ("partners.suspend", "Stäng av"),
    ("partners.reinstate", "Återaktivera"),
    ("partners.accredit", "Ackreditera en partner"),
    ("partners.exists", "Det partner-id:t är redan ackrediterat"),
    ("ann.page", "Driftmeddelanden"),
    ("ann.banner", "Driftmeddelanden"),
    ("ann.kind", "Sort"),
    ("ann.notice", "Meddelande"),
    ("ann.planned_outage", "Planerat avbrott"),
    ("ann.title_field", "Rubrik"),
    ("ann.message", "Text"),
    ("ann.starts", "Börjar (svensk tid)"),
    ("ann.ends", "Slutar (svensk tid)"),
    ("ann.publish", "Publicera"),
    ("privacy.title", "Integritetsmeddelande"),
    ("privacy.intro", "Så behandlar Stamp personuppgifter. Texten nedan finns på engelska."),
    ("nav.inspections", "Inspektionslänkar"),
    ("err401.title", "Länken gäller inte"),
    ("err401.what", "Inspektionslänken är okänd, har gått ut eller har återkallats."),
    ("err401.todo", "Be företagets administratör om en ny länk."),
    ("inspect.title", "Inspektion av personalliggare"),
    ("inspect.about", "Byggarbetsplats och företag"),
    ("inspect.company", "Företag"),
    ("inspect.orgnr", "Organisationsnummer"),
    ("inspect.valid_until", "Länken gäller till"),
    ("inspect.as_of", "Läget vid"),
    ("inspect.today", "Dagens registreringar,"),
    ("inspect.person_id", "Personnummer (maskerat)"),
    ("inspect.employer", "Arbetsgivare"),
    ("inspect.own_staff", "Företagets egen personal"),
    ("inspect.checked_in", "Incheckad"),
    ("inspect.partner", "Liggarsystem"),
    ("inspections.title", "Inspektionslänkar"),
    ("inspections.active", "Aktiv"),
    ("inspections.expired", "Har gått ut"),
    ("inspections.revoked", "Återkallad"),
    ("inspections.expires", "Gäller till"),
    ("inspections.note", "Anteckning"),
    ("inspections.made_by", "Skapad av"),
    ("inspections.revoke", "Återkalla"),
    ("inspections.new", "Ny inspektionslänk"),
    ("inspections.no_sites", "Företaget har inga byggarbetsplatser ännu."),
    ("inspections.valid_hours", "Giltig i timmar (1–336)"),
    ("inspections.make", "Skapa länk"),
    ("inspections.made", "Länken är skapad"),
    ("inspections.once", "Kopiera länken nu och ge den till inspektören. Den visas bara den här gången."),
    ("inspections.link", "Länk"),
];

pub static EN: &[(&str, &str)] = &[
    ("nav.label", "Main menu"),
    ("nav.skip", "Skip to content"),
    ("nav.home", "Go to the start page"),
    ("nav.overview", "Overview"),
    ("nav.people", "People"),
    ("nav.anomalies", "Anomalies"),
    ("nav.statistics", "Statistics"),
    ("nav.extracts", "Extracts"),
    ("nav.users", "Users"),
    ("nav.activation", "Activation"),
    ("nav.holds", "Legal holds"),
    ("nav.audit", "Audit log"),
    ("nav.me", "My registrations"),
    ("nav.partners", "Partners"),
    ("nav.announcements", "Announcements"),
    ("nav.privacy", "Privacy notice"),
    ("nav.switch", "På svenska"),
    ("nav.logout", "Sign out"),
    ("login.title", "Sign in"),
    ("login.local_only", "Local only"),
    ("login.local_note", "This sign-in exists only in stamp-local. Pick a demo identity; in AWS you sign in with your identity provider."),
    ("login.operator", "Operator"),
    ("login.company_admin", "Company admin (Demobygg)"),
    ("login.company_user", "Company user (Demobygg)"),
    ("login.employee", "Employee (a person at Demobygg)"),
    ("login.again", "Sign in again"),
    ("logout.title", "Signed out"),
    ("logout.done", "You are signed out."),
    ("err400.title", "Bad request"),
    ("err400.what", "The request could not be read."),
    ("err400.todo", "Go back and check what you entered."),
    ("err403.title", "Access denied"),
    ("err403.what", "You may not see this page, or the form has expired."),
    ("err403.todo", "Go back and try again. If you need access, ask the company's administrator."),
    ("err404.title", "Page not found"),
    ("err404.what", "There is no page or record at this address."),
    ("err404.todo", "Check the address or go to the start page."),
    ("err409.title", "Cannot be done"),
    ("err409.what", "The change conflicts with what is already there."),
    ("err409.todo", "Reload the page and try again."),
    ("err500.title", "Something went wrong"),
    ("err500.what", "An error occurred on our side."),
    ("err500.todo", "Try again in a while."),
    ("err503.title", "Temporarily unavailable"),
    ("err503.what", "The service cannot answer right now."),
    ("err503.todo", "Wait a moment and try again. Nothing you did has been lost."),
    ("form.invalid", "Invalid value"),
    ("form.missing", "This field is required"),
    ("form.conflict", "The change conflicts with what is already there"),
    ("common.none", "Nothing to show."),
    ("common.count", "Count"),
    ("common.from", "From"),
    ("common.to", "To"),
    ("common.show", "Show"),
    ("common.search", "Search"),
    ("common.find", "Find"),
    ("common.more", "Show more"),
    ("common.all", "All"),
    ("common.site", "Site"),
    ("common.day", "Day"),
    ("common.in", "In"),
    ("common.out", "Out"),
    ("common.duration", "Duration"),
    ("common.when", "Time"),
    ("common.direction", "Direction"),
    ("common.dir_in", "Check-in"),
    ("common.dir_out", "Check-out"),
    ("common.actions", "Actions"),
    ("common.optional", "(optional)"),
    ("common.truncated", "The list is cut short; choose a shorter period."),
    ("overview.title", "Overview"),
    ("overview.sites", "Sites"),
    ("overview.last30", "Last 30 days"),
    ("overview.anomalies", "Anomalies by kind (30 days)"),
    ("overview.health", "Partners' deliveries"),
    ("site.title", "Site"),
    ("site.last_seen", "last"),
    ("site.present", "Present now"),
    ("site.present_note", "Checked in without a check-out in the last 16 hours. Printable as an evacuation list."),
    ("site.print", "Print evacuation list"),
    ("health.received", "Received"),
    ("health.rejected", "Rejected"),
    ("health.last", "Last delivery"),
    ("kind.duplicate", "Duplicate"),
    ("kind.missing_check_out", "Missing check-out"),
    ("kind.missing_check_in", "Missing check-in"),
    ("kind.long_session", "Unusually long session"),
    ("kind.future_event", "Time in the future"),
    ("kind.late_entry", "Late entry"),
    ("kind.invalid_person_id", "Invalid personal identity number"),
    ("kind.other", "Other"),
    ("reason.missing_check_in", "Missing check-in"),
    ("reason.missing_check_out", "Missing check-out"),
    ("reason.on_site", "On site"),
    ("people.title", "People"),
    ("people.search_name", "Search by name"),
    ("people.employer", "Employer (organisation number)"),
    ("people.search_id", "Search by personal identity number"),
    ("people.name", "Name"),
    ("people.id", "Identity number (masked)"),
    ("people.not_found", "No one with that number is in the company's staff ledger"),
    ("person.title", "Person"),
    ("person.sessions_by_day", "Work sessions by day"),
    ("person.unpaired", "Unpaired registrations"),
    ("person.duplicates", "Duplicates"),
    ("person.corrections", "Corrections"),
    ("person.reason", "Reason"),
    ("person.duplicate_of", "Duplicate of"),
    ("person.corrected_by", "Corrected by"),
    ("person.corrected_at", "Corrected"),
    ("person.changes", "Changed"),
    ("person.voided", "Voided"),
    ("person.order_extract", "Order a register extract for this person"),
    ("anomalies.title", "Anomalies"),
    ("anomalies.kind", "Kind"),
    ("stats.title", "Statistics"),
    ("stats.granularity", "Grouping"),
    ("stats.day", "Day"),
    ("stats.week", "Week"),
    ("stats.month", "Month"),
    ("stats.hours", "Hours"),
    ("stats.sessions", "Work sessions"),
    ("stats.persons", "People"),
    ("stats.period", "Period"),
    ("stats.table", "The figures in the charts"),
    ("stats.csv", "Download as CSV"),
    ("extracts.title", "Order an extract"),
    ("extracts.one", "Extract"),
    ("extracts.kind", "Kind"),
    ("extracts.register", "Register extract for one person"),
    ("extracts.authority", "Material for Skatteverket"),
    ("extracts.person", "Person"),
    ("extracts.everyone", "Everyone (material only)"),
    ("extracts.authority_only", "(material)"),
    ("extracts.format", "Format"),
    ("extracts.order", "Order"),
    ("extracts.status", "Status"),
    ("extracts.pending", "Being prepared"),
    ("extracts.ready", "Ready"),
    ("extracts.failed", "Failed"),
    ("extracts.download", "Download"),
    ("extracts.link_note", "The link is valid for five minutes; reload the page for a new one."),
    ("extracts.wait", "The extract is being prepared. The page updates by itself."),
    ("extracts.refresh", "Refresh"),
    ("users.title", "Users and roles"),
    ("users.sub", "User id (sub)"),
    ("users.roles", "Roles"),
    ("users.granted", "Granted"),
    ("users.change", "Save roles"),
    ("users.remove", "Remove"),
    ("users.grant", "Give a user access"),
    ("users.last_admin", "The company must keep at least one company admin. Appoint another admin first."),
    ("role.company_admin", "Company admin"),
    ("role.company_user", "Company user"),
    ("activation.title", "Activation and terms"),
    ("activation.company", "Company"),
    ("activation.status", "Status"),
    ("activation.active", "Active"),
    ("activation.deregistered", "Deregistered"),
    ("activation.terms_version", "Terms version"),
    ("activation.accepted_at", "Terms accepted"),
    ("activation.month", "Last month of the fiscal year (1–12)"),
    ("activation.deregistered_at", "Deregistered"),
    ("activation.not_yet", "The company has not activated Stamp."),
    ("activation.terms", "Terms, version"),
    ("activation.company_name", "Company name"),
    ("activation.accept", "I accept the terms, version"),
    ("activation.submit", "Activate / accept the terms"),
    ("terms.text", "Stamp keeps the company's electronic staff ledger for construction sites under chapter 39 of the Tax Procedure Act. Stamp is the processor; the company is the controller.\n\nThe data is kept until the end of the second year after the calendar year in which the fiscal year ended, and is then erased unless a legal hold keeps it.\n\nThe company is responsible for informing the people registered, and for which users get access."),
    ("dereg.title", "Deregister the company"),
    ("dereg.what", "After deregistration no deliveries are accepted. The data stays until its retention ends."),
    ("dereg.confirm", "I understand and want to deregister the company"),
    ("dereg.submit", "Deregister"),
    ("dereg.done", "The company is deregistered. Keep the receipt."),
    ("dereg.receipt", "Deregistration receipt"),
    ("dereg.by", "Deregistered by"),
    ("dereg.imports", "Deliveries"),
    ("dereg.imports_text", "refused from now on"),
    ("dereg.data", "Data"),
    ("dereg.data_text", "kept until each registration's retention ends, then erased"),
    ("holds.title", "Legal holds"),
    ("holds.scope", "Scope"),
    ("holds.reason", "Reason"),
    ("holds.placed", "Placed"),
    ("holds.person", "Person (person_ref)"),
    ("holds.active", "In force"),
    ("holds.lifted", "Lifted"),
    ("holds.lift", "Lift"),
    ("holds.place", "New legal hold"),
    ("audit.title", "Audit log"),
    ("audit.actor", "Who"),
    ("audit.action", "Action"),
    ("audit.target", "Concerned"),
    ("audit.outcome", "Outcome"),
    ("me.title", "My registrations"),
    ("me.none", "No staff ledger in Stamp holds you in this period."),
    ("me.extract", "My register extract"),
    ("me.extract_note", "An extract of everything Stamp holds about you, in every company. It is free of charge."),
    ("partners.title", "Partners"),
    ("partners.id", "Partner id"),
    ("partners.name", "Name"),
    ("partners.feed", "Feed URL"),
    ("partners.accredited", "Accredited"),
    ("partners.active", "Active"),
    ("partners.suspended", "Suspended"),
    ("partners.suspend", "Suspend"),
    ("partners.reinstate", "Reinstate"),
    ("partners.accredit", "Accredit a partner"),
    ("partners.exists", "That partner id is already accredited"),
    ("ann.page", "Announcements"),
    ("ann.banner", "Service announcements"),
    ("ann.kind", "Kind"),
    ("ann.notice", "Notice"),
    ("ann.planned_outage", "Planned outage"),
    ("ann.title_field", "Title"),
    ("ann.message", "Text"),
    ("ann.starts", "Starts (Swedish time)"),
    ("ann.ends", "Ends (Swedish time)"),
    ("ann.publish", "Publish"),
    ("privacy.title", "Privacy notice"),
    ("privacy.intro", "How Stamp processes personal data."),
    ("nav.inspections", "Inspection links"),
    ("err401.title", "The link is not valid"),
    ("err401.what", "The inspection link is unknown, has expired or has been revoked."),
    ("err401.todo", "Ask the company's administrator for a new link."),
    ("inspect.title", "Staff ledger inspection"),
    ("inspect.about", "Site and company"),
    ("inspect.company", "Company"),
    ("inspect.orgnr", "Organisation number"),
    ("inspect.valid_until", "Link valid until"),
    ("inspect.as_of", "As of"),
    ("inspect.today", "Today's registrations,"),
    ("inspect.person_id", "Personal identity number (masked)"),
    ("inspect.employer", "Employer"),
    ("inspect.own_staff", "The company's own staff"),
    ("inspect.checked_in", "Checked in"),
    ("inspect.partner", "Ledger system"),
    ("inspections.title", "Inspection links"),
    ("inspections.active", "Active"),
    ("inspections.expired", "Expired"),
    ("inspections.revoked", "Revoked"),
    ("inspections.expires", "Valid until"),
    ("inspections.note", "Note"),
    ("inspections.made_by", "Made by"),
    ("inspections.revoke", "Revoke"),
    ("inspections.new", "New inspection link"),
    ("inspections.no_sites", "The company has no sites yet."),
    ("inspections.valid_hours", "Valid for hours (1–336)"),
    ("inspections.make", "Make link"),
    ("inspections.made", "The link is made"),
    ("inspections.once", "Copy the link now and give it to the inspector. It is shown this once only."),
    ("inspections.link", "Link"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(table: &[(&str, &str)]) -> BTreeSet<String> {
        table.iter().map(|(k, _)| k.to_string()).collect()
    }

    #[test]
    fn both_languages_have_every_key_once() {
        let (sv, en) = (keys(SV), keys(EN));
        let only_sv: Vec<_> = sv.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&sv).collect();
        assert!(only_sv.is_empty(), "missing in English: {only_sv:?}");
        assert!(only_en.is_empty(), "missing in Swedish: {only_en:?}");
        assert_eq!(sv.len(), SV.len(), "a key appears twice in Swedish");
        assert_eq!(en.len(), EN.len(), "a key appears twice in English");
        assert!(SV
            .iter()
            .chain(EN.iter())
            .all(|(_, v)| !v.trim().is_empty()));
    }

    /// Every `"group.key"` literal in the pages' source is in the tables (keys built
    /// with `format!` are listed here by hand).
    #[test]
    fn every_key_the_code_uses_exists() {
        let sources = [
            include_str!("layout.rs"),
            include_str!("lib.rs"),
            include_str!("pages/mod.rs"),
            include_str!("pages/company.rs"),
            include_str!("pages/admin.rs"),
            include_str!("pages/people.rs"),
            include_str!("pages/inspect.rs"),
            include_str!("pages/inspections.rs"),
        ];
        let groups: BTreeSet<&str> = SV.iter().filter_map(|(k, _)| k.split('.').next()).collect();
        let known = keys(SV);
        let mut missing = Vec::new();
        for src in sources {
            for lit in src.split('"').skip(1).step_by(2) {
                let Some((g, rest)) = lit.split_once('.') else {
                    continue;
                };
                let is_key = groups.contains(g)
                    && !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if is_key && !known.contains(lit) {
                    missing.push(lit.to_string());
                }
            }
        }
        for code in ["400", "401", "403", "404", "409", "500", "503"] {
            for part in ["title", "what", "todo"] {
                let k = format!("err{code}.{part}");
                if !known.contains(&k) {
                    missing.push(k);
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys used but not translated: {missing:?}"
        );
    }

    #[test]
    fn language_comes_from_the_query_then_the_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_request(&h, None), Lang::Sv);
        h.insert(http::header::COOKIE, "stamp_lang=en".parse().unwrap());
        assert_eq!(Lang::from_request(&h, None), Lang::En);
        assert_eq!(Lang::from_request(&h, Some("a=1&lang=sv")), Lang::Sv);
    }
}

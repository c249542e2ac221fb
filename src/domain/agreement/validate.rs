//! What an agreement still lacks (saknade uppgifter), each item with the step where it is entered.
use serde::Serialize;

use super::data::{
    is_three_party, releases_microdata, AgreementData, Party, PartyRole, CLAUSE_CODES,
    COLLABORATION_TYPES,
};

/// One missing or invalid item (saknad uppgift), answered as part of a 422.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingItem {
    /// Dotted path of the field, e.g. `parties.company.org_number`.
    pub field: String,
    /// Lifecycle step (1–9, seed 001) where the item is entered.
    pub step: u8,
    pub message_sv: String,
    pub message_en: String,
}

struct Collector(Vec<MissingItem>);

impl Collector {
    fn push(
        &mut self,
        field: impl Into<String>,
        step: u8,
        sv: impl Into<String>,
        en: impl Into<String>,
    ) {
        self.0.push(MissingItem {
            field: field.into(),
            step,
            message_sv: sv.into(),
            message_en: en.into(),
        });
    }

    fn text(&mut self, value: &str, field: &str, step: u8, sv: &str, en: &str) {
        if value.trim().is_empty() {
            self.push(
                field,
                step,
                format!("{sv} saknas"),
                format!("{en} is missing"),
            );
        }
    }

    fn some<T>(&mut self, value: &Option<T>, field: &str, step: u8, sv: &str, en: &str) {
        if value.is_none() {
            self.push(
                field,
                step,
                format!("{sv} saknas"),
                format!("{en} is missing"),
            );
        }
    }
}

fn role_key(role: PartyRole) -> &'static str {
    match role {
        PartyRole::Cpua => "cpua",
        PartyRole::ResearchPrincipal => "research_principal",
        PartyRole::Company => "company",
    }
}

fn check_party(c: &mut Collector, party: Option<&Party>, role: PartyRole, step: u8) {
    check_party_as(c, party, role, role_key(role), step);
}

fn check_party_as(c: &mut Collector, party: Option<&Party>, role: PartyRole, key: &str, step: u8) {
    let (sv_name, en_name) = match role {
        PartyRole::Cpua => ("CPUA-myndigheten", "The CPUA"),
        PartyRole::ResearchPrincipal => ("Forskningshuvudmannen", "The research principal"),
        PartyRole::Company => ("Företaget", "The company"),
    };
    let Some(p) = party else {
        c.push(
            format!("parties.{key}"),
            step,
            format!("{sv_name} som avtalspart saknas"),
            format!("{en_name} as a party is missing"),
        );
        return;
    };
    let f = |s: &str| format!("parties.{key}.{s}");
    c.text(
        &p.name,
        &f("name"),
        step,
        &format!("{sv_name}: namn"),
        &format!("{en_name}: name"),
    );
    c.text(
        &p.org_number,
        &f("org_number"),
        step,
        &format!("{sv_name}: organisationsnummer"),
        &format!("{en_name}: organisation number"),
    );
    c.text(
        &p.address,
        &f("address"),
        step,
        &format!("{sv_name}: adress"),
        &format!("{en_name}: address"),
    );
    c.text(
        &p.contact.name,
        &f("contact.name"),
        step,
        &format!("{sv_name}: kontaktperson"),
        &format!("{en_name}: contact person"),
    );
    c.text(
        &p.contact.email,
        &f("contact.email"),
        step,
        &format!("{sv_name}: kontaktpersonens e-post"),
        &format!("{en_name}: contact e-mail"),
    );
    // The signatory is settled when the agreement is drawn up (step 6).
    c.text(
        &p.signatory.name,
        &f("signatory.name"),
        6,
        &format!("{sv_name}: firmatecknare"),
        &format!("{en_name}: signatory"),
    );
    c.text(
        &p.signatory.title,
        &f("signatory.title"),
        6,
        &format!("{sv_name}: firmatecknarens titel"),
        &format!("{en_name}: signatory's title"),
    );
}

/// Lists EVERY missing item of an agreement, in a stable order. Empty means complete.
pub fn validate(d: &AgreementData) -> Vec<MissingItem> {
    let mut c = Collector(Vec::new());
    let kind = d.collaboration_type.as_str();

    c.text(
        &d.agreement_number,
        "agreement_number",
        6,
        "Avtalsnummer",
        "Agreement number",
    );
    if d.version == 0 {
        c.push(
            "version",
            6,
            "Avtalsversion saknas",
            "Agreement version is missing",
        );
    }
    // Seed 001, step 1 "Förarbete": identify the type of collaboration under the agreement.
    if kind.is_empty() {
        c.push(
            "collaboration_type",
            1,
            "Samverkanstyp saknas",
            "Collaboration type is missing",
        );
    } else if !COLLABORATION_TYPES.contains(&kind) {
        c.push(
            "collaboration_type",
            1,
            format!("Okänd samverkanstyp: {kind}"),
            format!("Unknown collaboration type: {kind}"),
        );
    }
    for (i, code) in d.clauses.iter().enumerate() {
        if !CLAUSE_CODES.contains(&code.as_str()) {
            c.push(
                format!("clauses[{i}]"),
                6,
                format!("Okänd klausul: {code}"),
                format!("Unknown clause: {code}"),
            );
        }
    }

    // Clauses about a data release make no sense where no microdata are released.
    if !releases_microdata(kind) && d.has_clause("extended_key_retention") {
        c.push(
            "clauses.extended_key_retention",
            1,
            "Förlängd lagring av nyckelfil gäller bara när personuppgifter lämnas ut",
            "Extended key retention applies only when personal data are released",
        );
    }

    // Parties. The CPUA is known from the application for data (step 4); the principal and the
    // company are identified in preparation (step 1).
    // Every CPUA that is a party signs for its registers (DOMAIN.md, "Several CPUAs in one agreement").
    check_party(&mut c, d.party(PartyRole::Cpua), PartyRole::Cpua, 4);
    for (i, p) in d.cpuas().enumerate().skip(1) {
        check_party_as(&mut c, Some(p), PartyRole::Cpua, &format!("cpua[{i}]"), 4);
    }
    check_party(&mut c, d.party(PartyRole::Company), PartyRole::Company, 1);
    let company_principal = kind == "research-company-principal";
    if (is_three_party(kind) || d.three_party()) && !company_principal {
        check_party(
            &mut c,
            d.party(PartyRole::ResearchPrincipal),
            PartyRole::ResearchPrincipal,
            1,
        );
    }
    if company_principal {
        if d.party(PartyRole::Company)
            .is_some_and(|p| !p.also_principal)
        {
            c.push(
                "parties.company.also_principal",
                1,
                "Företaget ska anges som forskningshuvudman",
                "The company must be marked as the research principal",
            );
        }
        // Seed 000, "Forskningssamarbete med industrin": a principal that is not a university or region
        // needs a confidentiality reservation formalised in the agreement before data are released.
        if !d.has_clause("confidentiality_reservation") {
            c.push(
                "clauses.confidentiality_reservation",
                6,
                "Sekretessförbehåll krävs när företaget är forskningshuvudman",
                "A confidentiality reservation is required when the company is the research principal",
            );
        }
    }

    // Step 1 "Förarbete": purpose and project plan (timeline, deliverables, people responsible).
    c.text(&d.background, "background", 1, "Bakgrund", "Background");
    c.text(&d.purpose, "purpose", 1, "Syfte", "Purpose");
    c.text(
        &d.research_question,
        "research_question",
        1,
        "Frågeställning",
        "Research question",
    );
    c.text(
        &d.research_plan_summary,
        "research_plan_summary",
        1,
        "Sammanfattning av forskningsplanen",
        "Research plan summary",
    );
    // Seed 001, step 6: the agreement states goals and deliverables.
    if d.goals.iter().all(|g| g.trim().is_empty()) {
        c.push(
            "goals",
            1,
            "Minst ett mål saknas",
            "At least one goal is missing",
        );
    }
    if d.deliverables.is_empty() {
        c.push(
            "deliverables",
            1,
            "Minst en leverans saknas",
            "At least one deliverable is missing",
        );
    }
    for (i, del) in d.deliverables.iter().enumerate() {
        c.text(
            &del.what,
            &format!("deliverables[{i}].what"),
            1,
            "Leverans: vad",
            "Deliverable: what",
        );
        c.some(
            &del.due,
            &format!("deliverables[{i}].due"),
            1,
            "Leverans: datum",
            "Deliverable: date",
        );
        c.text(
            &del.by,
            &format!("deliverables[{i}].by"),
            1,
            "Leverans: ansvarig",
            "Deliverable: by whom",
        );
    }

    // Data release (step 4, application for data) for the types that release microdata.
    if releases_microdata(kind) {
        match &d.data_release {
            None => c.push(
                "data_release",
                4,
                "Uppgifter om datauttaget saknas",
                "The data release is missing",
            ),
            Some(r) => {
                if r.registers.is_empty() {
                    c.push(
                        "data_release.registers",
                        4,
                        "Minst ett register saknas",
                        "At least one register is missing",
                    );
                }
                for (i, reg) in r.registers.iter().enumerate() {
                    c.text(
                        &reg.name,
                        &format!("data_release.registers[{i}].name"),
                        4,
                        "Register: namn",
                        "Register: name",
                    );
                    c.text(
                        &reg.cpua,
                        &format!("data_release.registers[{i}].cpua"),
                        4,
                        "Register: CPUA-myndighet",
                        "Register: CPUA",
                    );
                    // Seed 000, "Hur och vilka data lämnas ut?": only variables relevant to the question.
                    if reg.variables.is_empty() {
                        c.push(
                            format!("data_release.registers[{i}].variables"),
                            4,
                            "Register: variabler saknas",
                            "Register: variables are missing",
                        );
                    }
                }
                c.some(
                    &r.period_from,
                    "data_release.period_from",
                    4,
                    "Period från",
                    "Period from",
                );
                c.some(
                    &r.period_to,
                    "data_release.period_to",
                    4,
                    "Period till",
                    "Period to",
                );
                c.some(
                    &r.key_retention_months,
                    "data_release.key_retention_months",
                    4,
                    "Nyckelfilens lagringstid",
                    "Key-file retention",
                );
                // Seed 000: a key file is normally kept about 3 months; longer needs ethics approval
                // and a statement in the application.
                if r.key_retention_months.is_some_and(|m| m > 3)
                    && !d.has_clause("extended_key_retention")
                {
                    c.push("clauses.extended_key_retention", 3, "Nyckelfil längre än 3 månader kräver klausulen om förlängd lagring", "Key-file retention beyond 3 months needs the extended key retention clause");
                }
                if !r.pseudonymised && !d.has_clause("identity_number_justification") {
                    c.push(
                        "clauses.identity_number_justification",
                        3,
                        "Personnummer kräver motivering (klausul)",
                        "Identity numbers need the justification clause",
                    );
                }
                c.text(
                    &r.transfer_method,
                    "data_release.transfer_method",
                    6,
                    "Överföringssätt",
                    "Transfer method",
                );
                c.text(
                    &r.encryption,
                    "data_release.encryption",
                    6,
                    "Kryptering",
                    "Encryption",
                );
                // Seed 000: the password is sent separately.
                if !r.password_sent_separately {
                    c.push(
                        "data_release.password_sent_separately",
                        6,
                        "Lösenordet ska skickas separat",
                        "The password must be sent separately",
                    );
                }
            }
        }
        // Seed 000, "Etikprövning": all register data are sensitive; research needs ethics approval.
        match &d.ethics {
            None => c.push(
                "ethics",
                3,
                "Etikgodkännande saknas",
                "Ethics approval is missing",
            ),
            Some(e) => {
                c.text(
                    &e.reference,
                    "ethics.reference",
                    3,
                    "Etikgodkännandets diarienummer",
                    "Ethics approval reference",
                );
                c.some(
                    &e.date,
                    "ethics.date",
                    3,
                    "Etikgodkännandets datum",
                    "Ethics approval date",
                );
            }
        }
        // Seed 000, "Menprövning": who has access and how the data are stored.
        c.text(
            &d.data_protection.storage,
            "data_protection.storage",
            4,
            "Förvaring av uppgifterna",
            "Storage of the data",
        );
        if d.data_protection.access.is_empty() {
            c.push(
                "data_protection.access",
                4,
                "Vilka som har tillgång till uppgifterna saknas",
                "Who has access to the data is missing",
            );
        }
        c.some(
            &d.archiving.delete_within_days,
            "archiving.delete_within_days",
            9,
            "Frist för radering av kopior",
            "Deadline for deleting copies",
        );
        c.text(
            &d.archiving.confirmed_by,
            "archiving.confirmed_by",
            9,
            "Vem som bekräftar raderingen",
            "Who confirms the deletion",
        );
    }

    // Seed 000, "Publicering, erkännanden och författarskap"; seed 001 step 6 (acknowledgement).
    c.text(
        &d.publication.acknowledgement,
        "publication.acknowledgement",
        6,
        "Erkännande (acknowledgement)",
        "Acknowledgement",
    );
    // Seed 001, step 8: report results back to the register.
    c.text(
        &d.report_back,
        "report_back",
        6,
        "Återkoppling till registret",
        "Report back to the register",
    );

    // Costs: estimate at step 2, written cost agreement before release (seed 000, "Ersättning för datauttag").
    match &d.costs {
        None => c.push("costs", 2, "Kostnadsuppgifter saknas", "Costs are missing"),
        Some(k) => {
            c.some(
                &k.estimate,
                "costs.estimate",
                2,
                "Kostnadsuppskattning",
                "Cost estimate",
            );
            c.some(
                &k.hourly_rate,
                "costs.hourly_rate",
                2,
                "Timpris",
                "Hourly rate",
            );
            c.some(&k.hours, "costs.hours", 2, "Antal timmar", "Hours");
            c.text(
                &k.invoicing_schedule,
                "costs.invoicing_schedule",
                6,
                "Faktureringsplan",
                "Invoicing schedule",
            );
            c.some(
                &k.vat_rate_bp,
                "costs.vat_rate_bp",
                6,
                "Momssats",
                "VAT rate",
            );
            c.some(
                &k.payment_terms_days,
                "costs.payment_terms_days",
                6,
                "Betalningsvillkor",
                "Payment terms",
            );
            c.some(&k.payer, "costs.payer", 6, "Betalande part", "Paying party");
            for (i, item) in k.expenses.iter().enumerate() {
                c.text(
                    &item.description,
                    &format!("costs.expenses[{i}].description"),
                    2,
                    "Kostnadspost: beskrivning",
                    "Expense: description",
                );
            }
            let amounts = [k.estimate, k.hourly_rate]
                .into_iter()
                .flatten()
                .chain(k.expenses.iter().map(|e| e.amount));
            if amounts.into_iter().any(|m| m.ore() < 0) {
                c.push(
                    "costs",
                    2,
                    "Belopp får inte vara negativa",
                    "Amounts must not be negative",
                );
            }
            // DOMAIN.md, "självkostnadsprincipen": every line is a service performed, so the estimate is
            // exactly hours at the cost rate plus direct expenses, never a lump sum.
            if let (Some(estimate), Some(total)) = (k.estimate, k.computed_total()) {
                if estimate != total {
                    c.push(
                        "costs.estimate",
                        2,
                        format!("Kostnadsuppskattningen ({}) ska vara timmar × timpris plus direkta kostnader ({})", estimate.format(crate::domain::lang::Lang::Sv), total.format(crate::domain::lang::Lang::Sv)),
                        format!("The estimate ({}) must equal hours × rate plus direct expenses ({})", estimate.format(crate::domain::lang::Lang::En), total.format(crate::domain::lang::Lang::En)),
                    );
                }
            }
        }
    }

    match &d.term {
        None => c.push("term", 6, "Avtalstid saknas", "The term is missing"),
        Some(t) => {
            c.some(
                &t.start,
                "term.start",
                6,
                "Avtalets startdatum",
                "Start date",
            );
            c.some(&t.end, "term.end", 6, "Avtalets slutdatum", "End date");
            c.some(
                &t.notice_days,
                "term.notice_days",
                6,
                "Uppsägningstid",
                "Notice period",
            );
            if let (Some(s), Some(e)) = (t.start, t.end) {
                if e < s {
                    c.push(
                        "term.end",
                        6,
                        "Slutdatum före startdatum",
                        "End date before start date",
                    );
                }
            }
        }
    }
    c.text(
        &d.disputes.venue,
        "disputes.venue",
        6,
        "Forum för tvister",
        "Venue for disputes",
    );

    // Seed 002, "Utbildningens innehåll": with several registers it must be settled who links and who
    // keeps the identity-number key; seed 000, "Sambearbetning av registerdata", for linkage.
    if (d.cpuas().count() > 1 || d.has_clause("linkage")) && !d.has_clause("cpua_coordination") {
        c.push(
            "clauses.cpua_coordination",
            4,
            "Med flera CPUA-myndigheter eller samkörning krävs klausulen om samordning och kodnyckel",
            "Several CPUAs or linkage need the clause on coordination and the key",
        );
    }
    if d.has_clause("cpua_coordination") {
        let co = d.coordination.clone().unwrap_or_default();
        c.text(
            &co.linkage_by,
            "coordination.linkage_by",
            4,
            "Vem som ansvarar för samkörningen",
            "Who is responsible for the linkage",
        );
        c.text(
            &co.key_custodian,
            "coordination.key_custodian",
            4,
            "Vem som förvarar kodnyckeln",
            "Who keeps the key",
        );
    }
    // Clause-specific data.
    if d.has_clause("linkage") {
        if d.linkage.is_empty() {
            c.push(
                "linkage",
                1,
                "Samkörning: register och myndigheter saknas",
                "Linkage: registers and authorities are missing",
            );
        }
        for (i, l) in d.linkage.iter().enumerate() {
            c.text(
                &l.authority,
                &format!("linkage[{i}].authority"),
                1,
                "Samkörning: myndighet",
                "Linkage: authority",
            );
            if l.registers.is_empty() {
                c.push(
                    format!("linkage[{i}].registers"),
                    1,
                    "Samkörning: register saknas",
                    "Linkage: registers are missing",
                );
            }
        }
    }
    if d.has_clause("identity_number_justification") {
        c.text(
            d.identity_number_justification.as_deref().unwrap_or(""),
            "identity_number_justification",
            3,
            "Motivering för personnummer",
            "Justification for identity numbers",
        );
    }
    if d.has_clause("data_processing_agreement") {
        match &d.processor {
            None => c.push(
                "processor",
                4,
                "Personuppgiftsbiträde saknas",
                "The processor is missing",
            ),
            Some(p) => {
                c.text(
                    &p.name,
                    "processor.name",
                    4,
                    "Personuppgiftsbiträde: namn",
                    "Processor: name",
                );
                c.text(
                    &p.org_number,
                    "processor.org_number",
                    4,
                    "Personuppgiftsbiträde: organisationsnummer",
                    "Processor: organisation number",
                );
                c.text(
                    &p.task,
                    "processor.task",
                    4,
                    "Personuppgiftsbiträde: uppdrag",
                    "Processor: task",
                );
            }
        }
    }
    if d.has_clause("third_country_transfer") {
        match &d.third_country {
            None => c.push(
                "third_country",
                4,
                "Tredjelandsöverföring saknas",
                "The third-country transfer is missing",
            ),
            Some(t) => {
                c.text(
                    &t.country,
                    "third_country.country",
                    4,
                    "Tredje land",
                    "Third country",
                );
                c.text(
                    &t.safeguard,
                    "third_country.safeguard",
                    4,
                    "Skyddsåtgärd",
                    "Safeguard",
                );
            }
        }
    }
    if d.has_clause("pharma_appendix") {
        match &d.product {
            None => c.push(
                "product",
                1,
                "Läkemedlet saknas",
                "The medicinal product is missing",
            ),
            Some(p) => {
                c.text(
                    &p.name,
                    "product.name",
                    1,
                    "Läkemedlets namn",
                    "Product name",
                );
                c.text(
                    &p.authorisation,
                    "product.authorisation",
                    1,
                    "Godkännandenummer",
                    "Marketing authorisation",
                );
            }
        }
    }
    for (i, dev) in d.deviations.iter().enumerate() {
        c.text(
            &dev.clause,
            &format!("deviations[{i}].clause"),
            6,
            "Avvikelse: klausul",
            "Deviation: clause",
        );
        c.text(
            &dev.text,
            &format!("deviations[{i}].text"),
            6,
            "Avvikelse: text",
            "Deviation: text",
        );
        c.text(
            &dev.reason,
            &format!("deviations[{i}].reason"),
            6,
            "Avvikelse: motivering",
            "Deviation: reason",
        );
    }
    c.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::agreement::data::{Costs, DataRelease};
    use crate::domain::money::Money;

    fn research() -> AgreementData {
        AgreementData {
            collaboration_type: "research-public-principal".into(),
            data_release: Some(DataRelease {
                key_retention_months: Some(3),
                pseudonymised: true,
                password_sent_separately: true,
                ..DataRelease::default()
            }),
            ..AgreementData::default()
        }
    }

    fn has(d: &AgreementData, field: &str) -> bool {
        validate(d).iter().any(|m| m.field == field)
    }

    /// Seed 000, "Hur och vilka data lämnas ut?": the key file is kept about 3 months; longer needs
    /// ethics approval and a statement in the application.
    #[test]
    fn key_retention_beyond_three_months_needs_its_clause() {
        let mut d = research();
        assert!(!has(&d, "clauses.extended_key_retention"));
        if let Some(r) = d.data_release.as_mut() {
            r.key_retention_months = Some(6);
        }
        assert!(has(&d, "clauses.extended_key_retention"));
        d.clauses.push("extended_key_retention".into());
        assert!(!has(&d, "clauses.extended_key_retention"));
    }

    /// Seed 000, "Hur och vilka data lämnas ut?": the password is sent separately.
    #[test]
    fn password_must_be_sent_separately() {
        let mut d = research();
        if let Some(r) = d.data_release.as_mut() {
            r.password_sent_separately = false;
        }
        let item = validate(&d)
            .into_iter()
            .find(|m| m.field == "data_release.password_sent_separately");
        assert_eq!(item.map(|m| m.step), Some(6));
    }

    /// Seed 000, "Hur och vilka data lämnas ut?": identity numbers only in the most exceptional cases.
    #[test]
    fn identity_numbers_need_the_justification_clause() {
        let mut d = research();
        if let Some(r) = d.data_release.as_mut() {
            r.pseudonymised = false;
        }
        assert!(has(&d, "clauses.identity_number_justification"));
        d.clauses.push("identity_number_justification".into());
        assert!(has(&d, "identity_number_justification"));
    }

    /// DOMAIN.md, "självkostnadsprincipen": the estimate is hours at the cost rate plus direct expenses.
    #[test]
    fn estimate_is_hours_times_rate_plus_expenses() {
        let costs = |estimate: i64| Costs {
            estimate: Some(Money::from_ore(estimate).unwrap()),
            hourly_rate: Some(Money::from_kronor(1_000).unwrap()),
            hours: Some(10),
            ..Costs::default()
        };
        let mut d = research();
        d.costs = Some(costs(1_000_000));
        assert!(!has(&d, "costs.estimate"));
        d.costs = Some(costs(1_500_000));
        assert!(has(&d, "costs.estimate"));
    }

    #[test]
    fn unknown_types_and_clauses_are_named() {
        let d = AgreementData {
            collaboration_type: "sponsorship".into(),
            clauses: vec!["donation".into()],
            ..AgreementData::default()
        };
        assert!(has(&d, "collaboration_type"));
        assert!(has(&d, "clauses[0]"));
    }
}

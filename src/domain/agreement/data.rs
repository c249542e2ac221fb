//! Everything an agreement template may use (avtalsunderlag). Pure data, no I/O.
//!
//! Every field has a default so that an incomplete collaboration still parses; `validate` then lists
//! what is missing, each item with the lifecycle step (1–9, seed 001) where it is entered.
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::lang::Lang;
use crate::domain::money::Money;

/// Collaboration type codes of the working taxonomy (samverkanstyp), see DOMAIN.md.
pub const COLLABORATION_TYPES: [&str; 6] = [
    "statistics",
    "commissioned-analysis",
    "research-public-principal",
    "research-company-principal",
    "regulatory-follow-up",
    "register-development",
];

/// Clause codes the classifier emits that switch a partial on (aktiverbara avtalsklausuler). Each
/// activates the partial of the same name in `contract-templates/<lang>/partials/`; the other clause codes
/// of the rulebook (goals, publication, costs …) are sections every template always has.
pub const CLAUSE_CODES: [&str; 8] = [
    "confidentiality_reservation",
    "data_processing_agreement",
    "third_country_transfer",
    "pharma_appendix",
    "linkage",
    "identity_number_justification",
    "extended_key_retention",
    "cpua_coordination",
];

/// Is this a three-party agreement (CPUA, research principal, company)?
/// Seed 000, "Forskningssamarbete med industrin": research involving industry needs an agreement between
/// the register's CPUA, the research principal and the company.
pub fn is_three_party(collaboration_type: &str) -> bool {
    matches!(
        collaboration_type,
        "research-public-principal" | "research-company-principal" | "regulatory-follow-up"
    )
}

/// Does this type release personal data (pseudonymised microdata) to a recipient?
pub fn releases_microdata(collaboration_type: &str) -> bool {
    is_three_party(collaboration_type)
}

/// The data of one agreement (avtal).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgreementData {
    /// Agreement number (avtalsnummer), e.g. `SV-2027-0042`.
    pub agreement_number: String,
    /// Version of this agreement (avtalsversion), 1 and up.
    pub version: u32,
    /// Language of the document (språk).
    pub language: Lang,
    /// Collaboration type code (samverkanstyp), one of [`COLLABORATION_TYPES`].
    pub collaboration_type: String,
    /// The parties (parter).
    pub parties: Vec<Party>,
    /// Background (bakgrund), from the research plan.
    pub background: String,
    /// Purpose (syfte), from the research plan.
    pub purpose: String,
    /// Research question (forskningsfråga / frågeställning).
    pub research_question: String,
    /// Summary of the research plan for the appendix (sammanfattning av forskningsplanen).
    pub research_plan_summary: String,
    /// Goals (mål).
    pub goals: Vec<String>,
    /// Deliverables (leveranser).
    pub deliverables: Vec<Deliverable>,
    /// The data to be released (datauttag); absent for types that release no personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_release: Option<DataRelease>,
    /// Ethics approval (etikgodkännande); absent where none is needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethics: Option<EthicsApproval>,
    /// Confidentiality and data protection (sekretess och dataskydd).
    pub data_protection: DataProtection,
    /// Publication and acknowledgement (publicering och erkännande).
    pub publication: Publication,
    /// How results are reported back to the register (återkoppling till registret).
    pub report_back: String,
    /// Costs (kostnader).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<Costs>,
    /// Term and termination (avtalstid och uppsägning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<Term>,
    /// Archiving and deletion (arkivering och radering).
    pub archiving: Archiving,
    /// Disputes (tvister).
    pub disputes: Disputes,
    /// Activated clause codes (aktiverade klausuler), from the classification.
    pub clauses: Vec<String>,
    /// Negotiated deviations (avvikelser): a clause's text replaced for this agreement.
    pub deviations: Vec<Deviation>,
    /// Linkage with other registers (samkörning); needed with the `linkage` clause.
    pub linkage: Vec<Linkage>,
    /// Why personal identity numbers are needed (motivering för personnummer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_number_justification: Option<String>,
    /// The outside processor (personuppgiftsbiträde); needed with `data_processing_agreement`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processor: Option<Processor>,
    /// Transfer outside the EU/EEA (överföring till tredje land).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_country: Option<ThirdCountry>,
    /// The medicinal product followed up (läkemedel); needed with `pharma_appendix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<Product>,
    /// Who performs the linkage and who keeps the identity-number key (samordning, kodnyckel);
    /// needed with `cpua_coordination`. Seed 002, "Utbildningens innehåll".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coordination: Option<Coordination>,
    /// The amendment (ändring av forskningsfråga) this version was drawn for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amendment: Option<u32>,
}

/// Who links the registers and who keeps the key (samordning mellan CPUA-myndigheter). Seed 002,
/// "Utbildningens innehåll": with several registers it must be settled which authority is responsible
/// for the linkage and who keeps the identity-number key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Coordination {
    /// The authority that performs the linkage (ansvarig för samkörningen).
    pub linkage_by: String,
    /// The authority that keeps the identity-number key (förvarar kodnyckeln).
    pub key_custodian: String,
}

/// A CPUA's release decision as cited in the agreement (beslut om utlämnande).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionCitation {
    /// The date of the decision in Sweden (beslutsdatum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// The CPUA's reference (diarienummer), when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The role a party has in the agreement (partsroll).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// The register's central personal-data-controller authority (CPUA-myndighet).
    #[default]
    Cpua,
    /// The research principal (forskningshuvudman).
    ResearchPrincipal,
    /// The company (företag).
    Company,
}

/// A party to the agreement (avtalspart).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Party {
    pub role: PartyRole,
    /// The organisation's id in samverkan (organisations-id), so the lifecycle can compare the parties
    /// of a version with the deciding CPUAs. Empty in hand-written example data.
    pub organisation: String,
    /// The company is also the research principal (företaget är forskningshuvudman).
    pub also_principal: bool,
    /// A public body (myndighet: university, region) bound by OSL and the Archives Act.
    pub public_body: bool,
    /// Name (namn).
    pub name: String,
    /// Organisation number (organisationsnummer), `NNNNNN-NNNN`.
    pub org_number: String,
    /// Postal address (adress).
    pub address: String,
    /// Contact person (kontaktperson).
    pub contact: Person,
    /// Signatory (firmatecknare, for a region or university its behörig företrädare).
    pub signatory: Person,
    /// For a CPUA: the names of the registers it is party for (register).
    pub registers: Vec<String>,
    /// For a CPUA: its release decision, once taken (beslut om utlämnande).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionCitation>,
    /// For a CPUA: its own case number for the case (diarienummer, issue 16 item 5), when it set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
}

/// A person named in the agreement (person).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Person {
    pub name: String,
    /// Title (titel).
    pub title: String,
    /// E-mail (e-post).
    pub email: String,
}

/// A deliverable (leverans).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deliverable {
    /// What is delivered (vad).
    pub what: String,
    /// When (när).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// By whom (av vem).
    pub by: String,
}

/// Register data to be released (datauttag).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataRelease {
    /// Registers (register).
    pub registers: Vec<RegisterRelease>,
    /// First date of the period (period från).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_from: Option<NaiveDate>,
    /// Last date of the period (period till).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_to: Option<NaiveDate>,
    /// Released pseudonymised (pseudonymiserade), the normal case (seed 000, "Hur och vilka data lämnas ut?").
    pub pseudonymised: bool,
    /// Months the CPUA keeps the key file (nyckelfil), normally about 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_retention_months: Option<u32>,
    /// Transfer method (överföringssätt), e.g. an encrypted file transfer service.
    pub transfer_method: String,
    /// Encryption (kryptering).
    pub encryption: String,
    /// The password is sent separately (lösenord skickas separat).
    pub password_sent_separately: bool,
}

/// One register and its variables (register).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterRelease {
    pub name: String,
    /// The register's CPUA (CPUA-myndighet).
    pub cpua: String,
    /// Variables (variabler).
    pub variables: Vec<Variable>,
}

/// A variable requested (variabel).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    /// Description (beskrivning).
    pub description: String,
}

/// Ethics approval (etikgodkännande).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EthicsApproval {
    /// Reference number (diarienummer), e.g. `2026-01234-01`.
    pub reference: String,
    /// Date of the decision (beslutsdatum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

/// Confidentiality and data protection (sekretess och dataskydd).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataProtection {
    /// How and where the data are stored (förvaring).
    pub storage: String,
    /// Who has access to the personal data (behöriga personer).
    pub access: Vec<String>,
}

/// Publication and acknowledgement (publicering och erkännande).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Publication {
    /// The acknowledgement sentence (erkännande).
    pub acknowledgement: String,
    /// Days the company may read a manuscript before submission, without a right of veto.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_days: Option<u32>,
}

/// Costs (kostnader), at cost price (självkostnadsprincipen).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Costs {
    /// Estimated total excluding VAT (kostnadsuppskattning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Money>,
    /// Cost rate per hour (timpris).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hourly_rate: Option<Money>,
    /// Estimated hours (timmar).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    /// Direct expenses (direkta kostnader).
    pub expenses: Vec<CostItem>,
    /// Invoicing schedule (faktureringsplan).
    pub invoicing_schedule: String,
    /// VAT rate in basis points (momssats), 2500 = 25 %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_rate_bp: Option<u32>,
    /// Payment terms in days (betalningsvillkor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_terms_days: Option<u32>,
    /// Who pays (betalare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<PartyRole>,
}

/// A direct expense (kostnadspost).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostItem {
    pub description: String,
    pub amount: Money,
}

impl Costs {
    /// Labour: hourly rate × hours (arbetskostnad).
    pub fn labour(&self) -> Option<Money> {
        let rate = self.hourly_rate?;
        rate.checked_mul(i64::from(self.hours?)).ok()
    }

    /// Labour plus direct expenses, excluding VAT.
    pub fn computed_total(&self) -> Option<Money> {
        let mut total = self.labour()?;
        for item in &self.expenses {
            total = total.checked_add(item.amount).ok()?;
        }
        Some(total)
    }

    /// VAT on the estimate, rounded half up to whole öre.
    pub fn vat(&self) -> Option<Money> {
        let estimate = self.estimate?;
        let bp = i128::from(self.vat_rate_bp?);
        let ore = (i128::from(estimate.ore()) * bp + 5_000) / 10_000;
        Money::from_ore(i64::try_from(ore).ok()?).ok()
    }

    /// Estimate including VAT.
    pub fn total_with_vat(&self) -> Option<Money> {
        self.estimate?.checked_add(self.vat()?).ok()
    }
}

/// Term and termination (avtalstid och uppsägning).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Term {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// Notice period in days for termination (uppsägningstid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_days: Option<u32>,
}

/// Archiving and deletion of copies (arkivering och radering av kopior), step 9.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Archiving {
    /// Days after the end of the term within which copies are deleted (raderingsfrist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_within_days: Option<u32>,
    /// Who confirms the deletion in writing to the CPUA (bekräftelse).
    pub confirmed_by: String,
}

/// Disputes and governing law (tvister och tillämplig lag).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Disputes {
    /// The court of first instance (forum), e.g. `Stockholms tingsrätt`.
    pub venue: String,
}

/// A negotiated deviation (avvikelse): the text of one numbered sub-clause replaced for one agreement,
/// the template's text kept beside it. Stored by clause code and the sub-clause's 1-based index within
/// that clause, so it survives clauses being renumbered in a later version. Without `sub_clause` it
/// replaces a whole clause, which is allowed only for a clause without sub-clauses (and is how deviations
/// of the first wave were stored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deviation {
    /// The clause code.
    pub clause: String,
    /// The sub-clause within the clause, 1-based (7.3 → 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_clause: Option<u32>,
    /// The replacement text; blank lines separate paragraphs.
    pub text: String,
    /// Why (motivering).
    pub reason: String,
}

/// Linkage with another authority's registers (samkörning).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Linkage {
    /// The authority that performs or reviews the linkage (Socialstyrelsen, SCB, Försäkringskassan).
    pub authority: String,
    pub registers: Vec<String>,
}

/// An outside processor (personuppgiftsbiträde).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Processor {
    pub name: String,
    pub org_number: String,
    /// What the processor does (uppdrag).
    pub task: String,
}

/// A transfer outside the EU/EEA (tredjelandsöverföring).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThirdCountry {
    pub country: String,
    /// The safeguard relied on (skyddsåtgärd), e.g. standard contractual clauses.
    pub safeguard: String,
}

/// A medicinal product (läkemedel) for the pharma appendix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Product {
    pub name: String,
    /// Marketing authorisation number (godkännandenummer).
    pub authorisation: String,
}

impl AgreementData {
    /// The first party with this role.
    pub fn party(&self, role: PartyRole) -> Option<&Party> {
        self.parties.iter().find(|p| p.role == role)
    }

    /// Every CPUA that is a party, in order (CPUA-myndigheter).
    pub fn cpuas(&self) -> impl Iterator<Item = &Party> {
        self.parties.iter().filter(|p| p.role == PartyRole::Cpua)
    }

    /// Is this agreement drawn on the three-party template? The research types always are; a
    /// commissioned analysis is when it is research and so has the research principal as a party (the
    /// rulebook's `parties_if_research`; seed 000, "Forskningssamarbete med industrin").
    pub fn three_party(&self) -> bool {
        is_three_party(&self.collaboration_type)
            || (self.collaboration_type == "commissioned-analysis"
                && self.party(PartyRole::ResearchPrincipal).is_some())
    }

    /// The research principal: the principal party, or the company when it is also the principal.
    pub fn principal(&self) -> Option<&Party> {
        self.party(PartyRole::ResearchPrincipal).or_else(|| {
            self.parties
                .iter()
                .find(|p| p.role == PartyRole::Company && p.also_principal)
        })
    }

    /// Is this clause code activated?
    pub fn has_clause(&self, code: &str) -> bool {
        self.clauses.iter().any(|c| c == code)
    }
}

const MONTHS_SV: [&str; 12] = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date for people: `1 mars 2027` in Swedish, `1 March 2027` in English.
pub fn format_date(date: NaiveDate, lang: Lang) -> String {
    let months = match lang {
        Lang::Sv => &MONTHS_SV,
        Lang::En => &MONTHS_EN,
    };
    let month = months[date.month0() as usize];
    format!("{} {} {}", date.day(), month, date.year())
}

/// A VAT rate in basis points for people: `25 %` / `25%`, `12,5 %` / `12.5%`.
pub fn format_percent_bp(bp: u32, lang: Lang) -> String {
    let whole = bp / 100;
    let frac = bp % 100;
    let number = if frac == 0 {
        whole.to_string()
    } else {
        let dec = if lang == Lang::Sv { ',' } else { '.' };
        let frac = format!("{frac:02}");
        format!("{whole}{dec}{}", frac.trim_end_matches('0'))
    };
    match lang {
        Lang::Sv => format!("{number}\u{a0}%"),
        Lang::En => format!("{number}%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_per_language() {
        let d = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(format_date(d, Lang::Sv), "1 mars 2027");
        assert_eq!(format_date(d, Lang::En), "1 March 2027");
    }

    #[test]
    fn percent_per_language() {
        assert_eq!(format_percent_bp(2500, Lang::Sv), "25\u{a0}%");
        assert_eq!(format_percent_bp(1250, Lang::En), "12.5%");
        assert_eq!(format_percent_bp(1250, Lang::Sv), "12,5\u{a0}%");
    }

    #[test]
    fn vat_rounds_half_up_in_ore() {
        let costs = Costs {
            estimate: Some(Money::from_ore(1_001).unwrap()),
            vat_rate_bp: Some(2500),
            ..Costs::default()
        };
        assert_eq!(costs.vat().unwrap().ore(), 250);
    }
}

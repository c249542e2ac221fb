//! The closed code lists the rest of samverkan relies on: collaboration types, obligations, agreement clauses,
//! signing roles. Lawyers edit the rules in the rulebook; these codes change only with a release, because the
//! lifecycle guards and the agreement templates use them.
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }
            pub fn bit(self) -> u32 { 1u32 << (self as u32) }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

code_enum!(
    /// Collaboration type (samverkanstyp) under the SKR–industry agreement: the working taxonomy of DOMAIN.md.
    CollaborationType {
        /// Aggregated statistics or public documents (aggregerad statistik, allmän handling).
        Statistics = "statistics",
        /// The register or a register centre analyses for the company (uppdragsanalys, köp av tjänst).
        CommissionedAnalysis = "commissioned-analysis",
        /// Research led by a university or region, the company takes part (offentlig forskningshuvudman).
        ResearchPublicPrincipal = "research-public-principal",
        /// The company is the research principal (företaget är forskningshuvudman).
        ResearchCompanyPrincipal = "research-company-principal",
        /// Post-authorisation / post-market follow-up of a product (uppföljning efter godkännande).
        RegulatoryFollowUp = "regulatory-follow-up",
        /// The company buys development of the register (registerutveckling).
        RegisterDevelopment = "register-development",
    }
);

code_enum!(
    /// An obligation (skyldighet) that the classification derives; lifecycle guards read these codes.
    ObligationCode {
        /// Ethics approval by the Ethical Review Authority (etikgodkännande, EPM).
        EthicsApproval = "ethics_approval",
        /// The CPUA's confidentiality review (menprövning).
        ConfidentialityReview = "confidentiality_review",
        /// Confidentiality reservation formalised in the agreement (sekretessförbehåll).
        ConfidentialityReservation = "confidentiality_reservation",
        /// Data processing agreement (personuppgiftsbiträdesavtal, PUB-avtal).
        DataProcessingAgreement = "data_processing_agreement",
        /// Applications to each linking authority (ansökan om samkörning).
        LinkageApplications = "linkage_applications",
        /// Assessment of a transfer to a third country (överföring till tredje land).
        ThirdCountryAssessment = "third_country_assessment",
        /// Exceptional justification of personal identity numbers (personnummer i yttersta undantagsfall).
        IdentityNumbersJustification = "identity_numbers_justification",
        /// The pharmaceutical appendix of the template agreement (läkemedelsbilaga).
        PharmaAppendix = "pharma_appendix",
        /// Written cost agreement before release (skriftlig kostnadsöverenskommelse).
        WrittenCostAgreement = "written_cost_agreement",
        /// Key file kept longer than about 3 months (förlängd sparande av nyckelfil).
        ExtendedKeyRetention = "extended_key_retention",
        /// Registers under more than one CPUA: who decides, who keeps the key (samordning mellan CPUA).
        MultiCpuaCoordination = "multi_cpua_coordination",
        /// A grey zone that CPUA legal decides (juridisk granskning).
        LegalReview = "legal_review",
    }
);

code_enum!(
    /// An agreement clause (avtalsklausul) the agreement templates activate.
    ClauseCode {
        ConfidentialityReservation = "confidentiality_reservation",
        DataProcessingAgreement = "data_processing_agreement",
        ThirdCountryTransfer = "third_country_transfer",
        PharmaAppendix = "pharma_appendix",
        Linkage = "linkage",
        IdentityNumberJustification = "identity_number_justification",
        ExtendedKeyRetention = "extended_key_retention",
        /// Goals and deliverables (mål, leveranser).
        GoalsAndDeliverables = "goals_and_deliverables",
        /// Publication and acknowledgement (publicering, erkännande).
        Publication = "publication",
        /// Costs at cost price (kostnader, självkostnadsprincipen).
        Costs = "costs",
        /// Responsibility of the research principal (ansvarig forskningshuvudman).
        ResearchPrincipalResponsibility = "research_principal_responsibility",
        /// Reporting of results back to the register (redovisning, återkoppling).
        ResultsReporting = "results_reporting",
        /// Archiving and deletion of copies (arkivering och radering av kopior).
        ArchivingAndDeletion = "archiving_and_deletion",
        /// Purpose limitation: use only for the approved purpose (ändamålsbegränsning).
        PurposeLimitation = "purpose_limitation",
        /// The register keeps ownership and independence (registrets äganderätt och oberoende).
        RegisterIndependence = "register_independence",
        /// Multi-register linkage: who decides and who keeps the key (samordning mellan CPUA).
        CpuaCoordination = "cpua_coordination",
    }
);

code_enum!(
    /// A role that signs (part som undertecknar).
    Role {
        /// The register's CPUA authority.
        Cpua = "cpua",
        /// The company (företaget).
        Company = "company",
        /// The research principal (forskningshuvudman).
        ResearchPrincipal = "research_principal",
    }
);

code_enum!(
    /// How the collaboration is formalised: by an agreement (avtal) or a decision (beslut).
    Instrument {
        Agreement = "agreement",
        Decision = "decision",
    }
);

code_enum!(
    /// Details an obligation rule may attach, computed from the facts.
    DetailKind {
        /// The authorities whose data are linked.
        LinkageAuthorities = "linkage_authorities",
        /// Recipient countries outside the EU/EEA.
        ThirdCountries = "third_countries",
        /// The CPUAs of the chosen registers.
        Cpuas = "cpuas",
        /// The requested key-file retention in months.
        KeyRetentionMonths = "key_retention_months",
    }
);

//! The template view (mallvy): AgreementData plus the derived values templates need, as JSON.
//!
//! Every name a template may use is here; `templates::check` compares a template's variables with the
//! view of a fully populated agreement, so a lawyer learns about a typo before any agreement is drawn.
use serde_json::{json, Map, Value};

use crate::domain::agreement::data::{
    releases_microdata, AgreementData, PartyRole, CLAUSE_CODES, COLLABORATION_TYPES,
};

fn insert_money(
    obj: &mut Map<String, Value>,
    key: &str,
    value: Option<crate::domain::money::Money>,
) {
    if let Some(m) = value {
        obj.insert(key.to_string(), json!(m.ore()));
    }
}

/// Builds the JSON the templates see. Absent optional values are absent keys, so strict mode turns a
/// template's use of them into an error instead of an empty hole.
pub fn view(d: &AgreementData) -> Value {
    let mut root = match serde_json::to_value(d) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let kind = d.collaboration_type.as_str();
    let mut put = |k: &str, v: Value| {
        root.insert(k.to_string(), v);
    };
    if let Some(p) = d.party(PartyRole::Cpua) {
        put("cpua", json!(p));
    }
    // Every CPUA that is a party, each with its registers and its decision (issue 8, item 3).
    let cpuas: Vec<&crate::domain::agreement::data::Party> = d.cpuas().collect();
    put("multi_cpua", json!(cpuas.len() > 1));
    put("cpuas", json!(cpuas));
    if let Some(p) = d.party(PartyRole::Company) {
        put("company", json!(p));
    }
    if let Some(p) = d.party(PartyRole::ResearchPrincipal) {
        put("research_principal", json!(p));
    }
    if let Some(p) = d.principal() {
        put("principal", json!(p));
        put("principal_public", json!(p.public_body));
    } else {
        put("principal_public", json!(false));
    }
    let company_is_principal = d
        .party(PartyRole::Company)
        .is_some_and(|p| p.also_principal);
    put("company_is_principal", json!(company_is_principal));
    put("three_party", json!(d.three_party()));
    // Pseudonymised or identifiable microdata go to the research principal (the research types).
    put("microdata", json!(releases_microdata(kind)));
    let types: Map<String, Value> = COLLABORATION_TYPES
        .iter()
        .map(|t| (t.replace('-', "_"), json!(*t == kind)))
        .collect();
    put("type", Value::Object(types));
    let clauses: Map<String, Value> = CLAUSE_CODES
        .iter()
        .map(|c| (c.to_string(), json!(d.has_clause(c))))
        .collect();
    put("clause", Value::Object(clauses));
    put("has_deviations", json!(!d.deviations.is_empty()));
    put(
        "variable_count",
        json!(d
            .data_release
            .as_ref()
            .map(|r| r.registers.iter().map(|x| x.variables.len()).sum::<usize>())
            .unwrap_or(0)),
    );
    if let Some(costs) = &d.costs {
        if let Some(payer) = costs.payer.and_then(|r| d.party(r)) {
            put("payer", json!(payer));
        }
        if let Some(Value::Object(obj)) = root.get_mut("costs") {
            insert_money(obj, "labour", costs.labour());
            insert_money(obj, "vat", costs.vat());
            insert_money(obj, "total_with_vat", costs.total_with_vat());
        }
    }
    Value::Object(root)
}

//! The OpenAPI document against the router it describes, and the docs page with its vendored assets.
use reqwest::StatusCode;
use samverkan::http::routes::{route_table, Access, RouteInfo};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

use crate::helpers::{problem, TestApp};

async fn document(app: &TestApp) -> Value {
    let r = app
        .client
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Every operation of the document: (METHOD, path) → operation.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if [
                "get", "post", "put", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                out.insert((method.to_uppercase(), path.clone()), op.clone());
            }
        }
    }
    out
}

fn declared(op: &Value, location: &str) -> Vec<Value> {
    op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["in"] == location).cloned().collect())
        .unwrap_or_default()
}

fn key(r: &RouteInfo) -> (String, String) {
    (r.method.as_str().to_string(), r.path.clone())
}

#[tokio::test]
async fn every_route_of_the_router_is_documented_with_its_method_and_path_parameters_and_vice_versa(
) {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = operations(&doc);
    let table = route_table();
    let routed: BTreeSet<(String, String)> = table.iter().map(key).collect();
    let documented: BTreeSet<(String, String)> = ops.keys().cloned().collect();
    assert_eq!(
        routed.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routed but not documented"
    );
    assert_eq!(
        documented.difference(&routed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not routed"
    );
    assert!(table.len() >= 30, "{} routes", table.len());
    for r in &table {
        let op = &ops[&key(r)];
        let names: BTreeSet<String> = declared(op, "path")
            .iter()
            .map(|p| {
                assert_eq!(p["required"], true, "{} {}: {p}", r.method, r.path);
                p["name"].as_str().unwrap().to_string()
            })
            .collect();
        let in_path: BTreeSet<String> = r.path_parameters().into_iter().collect();
        assert_eq!(names, in_path, "{} {}: path parameters", r.method, r.path);
        assert_eq!(op["operationId"], r.operation_id.as_str());
    }
}

#[tokio::test]
async fn every_error_answer_is_documented_as_problem_json_and_each_operation_lists_its_statuses() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    for r in route_table() {
        let op = &ops[&key(&r)];
        let what = format!("{} {}", r.method, r.path);
        let responses = op["responses"].as_object().unwrap();
        for (code, resp) in responses {
            if code.starts_with('4') || code.starts_with('5') {
                let content = resp["content"].as_object().unwrap_or_else(|| {
                    panic!("{what} {code}: no content");
                });
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{what} {code}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{what} {code}"
                );
            }
        }
        let has = |code: &str| responses.contains_key(code);
        match r.access {
            Access::Authenticated => {
                assert!(has("401"), "{what}: 401");
                assert_eq!(op["security"], json!([{"bearer": []}]), "{what}");
            }
            Access::Public => assert!(op.get("security").is_none(), "{what}"),
        }
        if op.get("requestBody").is_some() {
            for code in ["400", "413", "415", "422"] {
                assert!(has(code), "{what}: {code}");
            }
        }
        if r.path.contains('{') {
            assert!(has("404"), "{what}: 404");
        }
        if declared(op, "header")
            .iter()
            .any(|p| p["name"] == "If-Match")
        {
            assert!(has("412"), "{what}: 412 for If-Match");
        }
    }
    let ready = &ops[&("GET".into(), "/health/ready".into())];
    assert!(ready["responses"].get("503").is_some());
    let token = &ops[&("POST".into(), "/api/v1/local/token".into())];
    assert!(token["responses"].get("429").is_some());
    for path in [
        "/api/v1/collaborations/{id}",
        "/api/v1/collaborations/{id}/transitions",
        "/api/v1/collaborations/{id}/actions",
    ] {
        let method = if path.ends_with("{id}") {
            "PATCH"
        } else {
            "POST"
        };
        let op = &ops[&(method.into(), path.into())];
        assert!(
            declared(op, "header")
                .iter()
                .any(|p| p["name"] == "If-Match"),
            "{method} {path} declares If-Match"
        );
    }
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["components"]["schemas"]
        .get(name)
        .unwrap_or_else(|| panic!("schema {name}"))
}

/// Each variant of an internally tagged body: an object that names its tag value and refuses
/// unknown properties.
fn assert_tagged_variants(doc: &Value, name: &str, tag: &str, at_least: usize) -> Vec<String> {
    let s = schema(doc, name);
    let variants = s["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is oneOf: {s}"));
    assert!(variants.len() >= at_least, "{name}: {}", variants.len());
    let mut tags = Vec::new();
    for v in variants {
        assert_eq!(v["type"], "object", "{name}: {v}");
        assert_eq!(v["additionalProperties"], false, "{name}: {v}");
        let values = v["properties"][tag]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: the `{tag}` of {v}"));
        assert_eq!(values.len(), 1, "{v}");
        assert!(
            v["required"]
                .as_array()
                .is_some_and(|r| r.contains(&json!(tag))),
            "{name}: `{tag}` is required in {v}"
        );
        tags.push(values[0].as_str().unwrap().to_string());
    }
    tags
}

#[tokio::test]
async fn request_bodies_are_typed_with_each_variant_and_no_unknown_properties() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let to = assert_tagged_variants(&doc, "TransitionInput", "to", 11);
    for t in [
        "register_contact",
        "data_application",
        "release_decision",
        "withdrawn",
    ] {
        assert!(to.contains(&t.to_string()), "{t} in {to:?}");
    }
    let actions = assert_tagged_variants(&doc, "ActionInput", "action", 24);
    for a in [
        "record_feasibility",
        "add_internal_note",
        "override_classification",
    ] {
        assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
    }
    // The variant's own fields are typed, not a free object.
    let feasibility = schema(&doc, "ActionInput")["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["properties"]["action"]["enum"][0] == "record_feasibility")
        .unwrap()
        .clone();
    assert_eq!(feasibility["properties"]["feasible"]["type"], "boolean");
    assert!(feasibility["required"]
        .as_array()
        .unwrap()
        .contains(&json!("register")));

    // The intake facts: every fact the parser reads, with its values; none of those that follow from
    // the collaboration's own fields; nothing else.
    let intake = schema(&doc, "IntakeFacts");
    assert_eq!(intake["additionalProperties"], false);
    let props = intake["properties"].as_object().unwrap();
    assert!(props.contains_key("purpose") && props.contains_key("key_retention_months"));
    assert!(!props.contains_key("registers") && !props.contains_key("research_principal_kind"));
    let purpose = props["purpose"]["enum"].as_array().unwrap();
    assert!(
        purpose.contains(&json!("algorithm_training")),
        "{purpose:?}"
    );
    let whatif = schema(&doc, "WhatIfFacts");
    assert_eq!(
        whatif["properties"].as_object().unwrap().len(),
        samverkan::domain::classification::FactId::ALL.len()
    );
    let new = schema(&doc, "NewCollaborationInput");
    assert_eq!(new["additionalProperties"], false);
    let intake_ref = new["properties"]["intake"].to_string();
    assert!(
        intake_ref.contains("#/components/schemas/IntakeFacts"),
        "{intake_ref}"
    );

    // No operation takes a body it does not describe.
    for ((method, path), op) in operations(&doc) {
        if let Some(body) = op.get("requestBody") {
            // A multipart upload (documents, issue 16) is described as its form's fields.
            let content = &body["content"];
            let s = content
                .get("application/json")
                .or_else(|| content.get("multipart/form-data"))
                // A camt.054 bank file (payments import, issue 15) is described by its own schema.
                .or_else(|| content.get("application/xml"))
                .map(|c| &c["schema"])
                .unwrap_or(&Value::Null);
            assert!(
                s.get("$ref").is_some() || s.get("properties").is_some(),
                "{method} {path}: an untyped body {s}"
            );
        }
    }
}

#[tokio::test]
async fn every_body_route_refuses_a_non_json_body_as_documented() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    let token = app.token("admin").await;
    let mut checked = 0;
    for r in route_table() {
        if ops[&key(&r)].get("requestBody").is_none() {
            continue;
        }
        let mut path = r.path.clone();
        for p in r.path_parameters() {
            path = path.replace(&format!("{{{p}}}"), "00000000-0000-4000-8000-000000000000");
        }
        let resp = app
            .client
            .request(
                reqwest::Method::from_bytes(r.method.as_str().as_bytes()).unwrap(),
                format!("{}{path}", app.base),
            )
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body("hej")
            .send()
            .await
            .unwrap();
        problem(resp, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
        checked += 1;
    }
    assert!(checked >= 13, "{checked}");
}

fn local_references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap_or_default().to_string();
            out.push(url);
        }
    }
    out
}

#[tokio::test]
async fn the_docs_page_and_every_asset_it_references_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let refs = local_references(&html);
    assert!(refs.len() >= 5, "{refs:?}");
    let mut bundle = false;
    for url in &refs {
        assert!(
            url.starts_with('/'),
            "nothing is loaded from elsewhere: {url}"
        );
        let r = app
            .client
            .get(format!("{}{url}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        if url.starts_with("/api/docs/") {
            assert_eq!(
                r.headers()["cache-control"],
                "public, max-age=31536000, immutable",
                "{url}"
            );
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            let body = r.bytes().await.unwrap();
            assert!(!body.is_empty(), "{url}");
            if url.contains("swagger-ui-bundle.") {
                assert!(ct.starts_with("text/javascript"), "{ct}");
                assert!(
                    String::from_utf8_lossy(&body).contains("SwaggerUIBundle"),
                    "the bundle"
                );
                bundle = true;
            }
        }
    }
    assert!(bundle, "the page loads the Swagger UI bundle: {refs:?}");
    // Asset names carry a content hash; an old or made-up one is not served.
    assert!(refs.iter().any(|u| u.ends_with(".css")));
    problem(
        app.client
            .get(format!(
                "{}/api/docs/swagger-ui-bundle.000000000000.js",
                app.base
            ))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // The init script asks for the description of this server and keeps the token entered.
    let init = refs
        .iter()
        .find(|u| u.contains("/docs.") && u.ends_with(".js"))
        .expect("the init script");
    let js = app
        .client
        .get(format!("{}{init}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("'/api/openapi.json'") && js.contains("persistAuthorization: true"));
}

#[tokio::test]
async fn a_method_a_resource_does_not_serve_answers_405_with_allow() {
    let app = TestApp::spawn().await;
    let token = app.token("admin").await;
    let r = app
        .client
        .delete(format!(
            "{}/api/v1/collaborations/00000000-0000-4000-8000-000000000000",
            app.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let allow = r.headers()["allow"].to_str().unwrap().to_string();
    assert_eq!(allow, "GET, PATCH");
    problem(r, StatusCode::METHOD_NOT_ALLOWED).await;
}

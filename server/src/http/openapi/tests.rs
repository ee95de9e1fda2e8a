//! The document against the core's parsers; the routes against the document are
//! checked by `crate::http`'s tests, where the whole application is.

use super::*;
use monban_core::{DoorEvent, Factor, Login};
use serde_json::Value;

fn spec() -> Value {
    spec_json()
}

#[test]
fn the_spec_is_openapi_3_1_with_both_security_schemes() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    // Every documented error is the one error body.
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

/// The example of a component schema.
fn example(spec: &Value, schema: &str) -> Value {
    spec["components"]["schemas"][schema]["examples"][0].clone()
}

/// The required and the optional properties of a component schema.
fn fields(spec: &Value, schema: &str) -> (Vec<String>, Vec<String>) {
    let s = &spec["components"]["schemas"][schema];
    let required: Vec<String> = s["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let optional = s["properties"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !required.contains(k))
        .cloned()
        .collect();
    (required, optional)
}

/// The mirror types agree with `monban-core`'s parsers: the example parses, a missing
/// required field is refused, a missing optional field is not.
fn check_against_parser(schema: &str, parse: impl Fn(&[u8]) -> Result<(), String>) {
    let spec = spec();
    let example = example(&spec, schema);
    assert!(example.is_object(), "{schema} has an example");
    parse(example.to_string().as_bytes()).unwrap();
    let (required, optional) = fields(&spec, schema);
    assert!(!required.is_empty());
    for field in &required {
        let mut body = example.clone();
        body.as_object_mut().unwrap().remove(field);
        assert!(
            parse(body.to_string().as_bytes()).is_err(),
            "{schema}: the parser accepts a body without {field}"
        );
    }
    for field in &optional {
        let mut body = example.clone();
        body.as_object_mut().unwrap().remove(field);
        parse(body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{schema}: {field} is optional, yet: {e}"));
        let mut body = example.clone();
        body[field] = Value::Null;
        parse(body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{schema}: {field} may be null, yet: {e}"));
    }
}

#[test]
fn door_event_body_mirrors_the_parser() {
    check_against_parser("DoorEventBody", |b| {
        DoorEvent::from_json(b, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // The credential's own fields.
    let spec = spec();
    let (required, _) = fields(&spec, "CredentialBody");
    assert_eq!(required, ["type", "id"]);
    for field in required {
        let mut body = example(&spec, "DoorEventBody");
        body["credential"].as_object_mut().unwrap().remove(&field);
        assert!(DoorEvent::from_json(body.to_string().as_bytes(), None).is_err());
    }
}

#[test]
fn login_body_mirrors_the_parser() {
    check_against_parser("LoginBody", |b| {
        Login::from_json(b).map(|_| ()).map_err(|e| e.to_string())?;
        crate::http::step_up::step_up_id_of(b)
            .map(|_| ())
            .map_err(|e| e.message().into_owned())
    });
}

#[test]
fn step_up_body_is_the_handlers_type() {
    check_against_parser("CreateBody", |b| {
        serde_json::from_slice::<crate::http::step_up::CreateBody>(b)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

#[test]
fn maintenance_bodies_mirror_the_core() {
    check_against_parser("MaintenanceRequestBody", |b| {
        serde_json::from_slice::<monban_core::maintenance::RequestBody>(b)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    check_against_parser("MaintenanceReportBody", |b| {
        serde_json::from_slice::<monban_core::maintenance::ReportBody>(b)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

/// Enumerations written here (not taken from a core list) hold exactly what the core
/// parses.
#[test]
fn small_enumerations_match_the_core() {
    let spec = spec();
    let values = |name: &str| -> Vec<String> {
        spec["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let directions = values("DirectionName");
    assert_eq!(directions.len(), 2);
    for d in directions {
        d.parse::<monban_core::Direction>().unwrap();
    }
    let outcomes = values("OutcomeName");
    assert_eq!(outcomes.len(), 2);
    for o in outcomes {
        o.parse::<monban_core::Outcome>().unwrap();
    }
    assert_eq!(values("FactorName").len(), Factor::ALL.len());
    for f in values("FactorName") {
        f.parse::<Factor>().unwrap();
    }
}

//! Tests of routing: 404, 405 with `Allow` and 400 for the default rules, the
//! most specific template winning, verbs, and that no path makes the router
//! panic (proptest).

use http::Method;
use proptest::prelude::*;
use prost_reflect::DescriptorPool;

use super::*;
use crate::pb::FILE_DESCRIPTOR_SET;
use crate::transcode::BodyRule;
use crate::transcode::template::PathTemplate;

fn pool() -> DescriptorPool {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("descriptor set")
}

/// A binding of `google.longrunning.Operations.<rpc>`.
fn binding(pool: &DescriptorPool, rpc: &str, method: Method, template: &str) -> Binding {
    let service = pool
        .get_service_by_name("google.longrunning.Operations")
        .expect("service");
    Binding {
        method: service.methods().find(|m| m.name() == rpc).expect(rpc),
        http_method: method,
        template: PathTemplate::parse(template).expect(template),
        body: BodyRule::None,
        response_body: None,
    }
}

/// The routes of config/http_rules.yaml for the public API.
fn default_router() -> Router {
    let pool = pool();
    let op = "/v1/{name=projects/*/locations/*/operations/*}";
    Router::new(vec![
        binding(
            &pool,
            "ListOperations",
            Method::GET,
            "/v1/{name=projects/*/locations/*}/operations",
        ),
        binding(&pool, "GetOperation", Method::GET, op),
        binding(&pool, "DeleteOperation", Method::DELETE, op),
        binding(
            &pool,
            "CancelOperation",
            Method::POST,
            &format!("{op}:cancel"),
        ),
        binding(&pool, "WaitOperation", Method::POST, &format!("{op}:wait")),
    ])
}

/// What a route gives, in a form tests can compare.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Matched(&'static str, Vec<(String, String)>),
    NotAllowed(Vec<Method>),
    NotFound,
    BadPath,
}

fn outcome(router: &Router, method: &Method, path: &str) -> Outcome {
    match router.route(method, path) {
        RouteResult::Matched {
            binding, bindings, ..
        } => {
            let rpc = [
                "ListOperations",
                "GetOperation",
                "DeleteOperation",
                "CancelOperation",
                "WaitOperation",
            ]
            .into_iter()
            .find(|rpc| *rpc == binding.method.name())
            .expect("known rpc");
            let bound = bindings
                .into_iter()
                .map(|b| (b.field_path.join("."), b.value))
                .collect();
            Outcome::Matched(rpc, bound)
        }
        RouteResult::MethodNotAllowed { allow } => Outcome::NotAllowed(allow),
        RouteResult::NotFound => Outcome::NotFound,
        RouteResult::BadPath(error) => {
            assert_eq!(error.reason, "INVALID_PATH");
            Outcome::BadPath
        }
    }
}

fn name(value: &str) -> Vec<(String, String)> {
    vec![("name".to_owned(), value.to_owned())]
}

#[test]
fn route_default_rules_answer_match_405_404_and_400() {
    let router = default_router();
    let op = "projects/p/locations/l/operations/o";
    let cases = [
        (
            Method::GET,
            format!("/v1/{op}"),
            Outcome::Matched("GetOperation", name(op)),
        ),
        (
            Method::DELETE,
            format!("/v1/{op}"),
            Outcome::Matched("DeleteOperation", name(op)),
        ),
        (
            Method::POST,
            format!("/v1/{op}:cancel"),
            Outcome::Matched("CancelOperation", name(op)),
        ),
        (
            Method::POST,
            format!("/v1/{op}:wait"),
            Outcome::Matched("WaitOperation", name(op)),
        ),
        (
            Method::GET,
            "/v1/projects/p/locations/l/operations".to_owned(),
            Outcome::Matched("ListOperations", name("projects/p/locations/l")),
        ),
        // A registered verb is always a verb: never a Get of "o:cancel".
        (
            Method::GET,
            format!("/v1/{op}:cancel"),
            Outcome::NotAllowed(vec![Method::POST]),
        ),
        (
            Method::DELETE,
            format!("/v1/{op}:wait"),
            Outcome::NotAllowed(vec![Method::POST]),
        ),
        // An unregistered verb is data.
        (
            Method::GET,
            format!("/v1/{op}:frobnicate"),
            Outcome::Matched("GetOperation", name(&format!("{op}:frobnicate"))),
        ),
        (
            Method::POST,
            format!("/v1/{op}:frobnicate"),
            Outcome::NotAllowed(vec![Method::DELETE, Method::GET]),
        ),
        // An escaped colon is data even before a registered verb's name.
        (
            Method::GET,
            format!("/v1/{op}%3Acancel"),
            Outcome::Matched("GetOperation", name(&format!("{op}%3Acancel"))),
        ),
        (
            Method::POST,
            format!("/v1/{op}"),
            Outcome::NotAllowed(vec![Method::DELETE, Method::GET]),
        ),
        (
            Method::HEAD,
            format!("/v1/{op}"),
            Outcome::NotAllowed(vec![Method::DELETE, Method::GET]),
        ),
        (
            Method::OPTIONS,
            format!("/v1/{op}:cancel"),
            Outcome::NotAllowed(vec![Method::POST]),
        ),
        (Method::GET, format!("/v2/{op}"), Outcome::NotFound),
        (Method::GET, format!("/v1/{op}/extra"), Outcome::NotFound),
        (
            Method::GET,
            "/v1/projects/p/locations/l/operations/o:".to_owned(),
            Outcome::Matched("GetOperation", name(&format!("{op}:"))),
        ),
        (Method::GET, "/".to_owned(), Outcome::NotFound),
        (
            Method::GET,
            "/v1/projects/p/locations//operations/o".to_owned(),
            Outcome::BadPath,
        ),
        (Method::GET, format!("/v1/{op}/"), Outcome::BadPath),
        (
            Method::GET,
            "/v1/projects/p/locations/l/operations/..".to_owned(),
            Outcome::BadPath,
        ),
        (
            Method::GET,
            "/v1/projects/p/locations/l/operations/%G1".to_owned(),
            Outcome::BadPath,
        ),
        (
            Method::POST,
            "/v1/projects/p/locations/l/operations/%:cancel".to_owned(),
            Outcome::BadPath,
        ),
        (Method::GET, "v1/projects".to_owned(), Outcome::BadPath),
    ];
    for (method, path, expected) in cases {
        assert_eq!(
            outcome(&router, &method, &path),
            expected,
            "{method} {path}"
        );
    }
}

#[test]
fn route_several_matches_most_specific_wins_whatever_the_order() {
    let pool = pool();
    let templates = [
        ("ListOperations", "/v1/{name=operations/**}"),
        ("GetOperation", "/v1/operations/special"),
        ("DeleteOperation", "/v1/{name=operations/*}"),
        ("CancelOperation", "/v1/{name=*}/special"),
        ("WaitOperation", "/v1/{name=operations/*/*}/**"),
    ];
    let cases = [
        ("/v1/operations/special", "GetOperation"),
        ("/v1/operations/x", "DeleteOperation"),
        ("/v1/other/special", "CancelOperation"),
        ("/v1/operations/x/y", "WaitOperation"),
        ("/v1/operations/x/y/z", "WaitOperation"),
        ("/v1/operations", "ListOperations"),
    ];
    let mut bindings: Vec<Binding> = templates
        .iter()
        .map(|(rpc, template)| binding(&pool, rpc, Method::GET, template))
        .collect();
    for _ in 0..2 {
        let router = Router::new(bindings.clone());
        for (path, rpc) in cases {
            let RouteResult::Matched { binding, .. } = router.route(&Method::GET, path) else {
                panic!("{path}: no match");
            };
            assert_eq!(binding.method.name(), rpc, "{path}");
        }
        bindings.reverse();
    }
}

#[test]
fn route_equally_specific_templates_first_given_wins() {
    let pool = pool();
    let router = Router::new(vec![
        binding(&pool, "GetOperation", Method::GET, "/v1/{a}/x"),
        binding(&pool, "DeleteOperation", Method::GET, "/v1/{b}/x"),
    ]);
    let RouteResult::Matched {
        binding, bindings, ..
    } = router.route(&Method::GET, "/v1/y/x")
    else {
        panic!("no match");
    };
    assert_eq!(binding.method.name(), "GetOperation");
    assert_eq!(*bindings[0].field_path, ["a"]);
}

#[test]
fn route_verb_registered_by_any_route_applies_to_all() {
    // `:cancel` is registered by a route elsewhere; a Get template still
    // must not take it as part of a name.
    let pool = pool();
    let router = Router::new(vec![
        binding(
            &pool,
            "GetOperation",
            Method::GET,
            "/v1/{name=operations/**}",
        ),
        binding(
            &pool,
            "CancelOperation",
            Method::POST,
            "/v2/{name=jobs/*}:cancel",
        ),
    ]);
    assert_eq!(
        outcome(&router, &Method::GET, "/v1/operations/x:cancel"),
        Outcome::NotFound
    );
    assert_eq!(
        outcome(&router, &Method::GET, "/v1/operations/x:other"),
        Outcome::Matched("GetOperation", name("operations/x:other"))
    );
}

#[test]
fn route_empty_router_finds_nothing() {
    let router = Router::new(Vec::new());
    assert_eq!(outcome(&router, &Method::GET, "/v1/x"), Outcome::NotFound);
    assert!(router.bindings().is_empty());
}

proptest! {
    #[test]
    fn route_never_panics(
        method in prop::sample::select(vec![Method::GET, Method::POST, Method::HEAD, Method::DELETE]),
        path in "\\PC{0,40}",
        grammar in "[/:.a-z%0-9F]{0,40}",
    ) {
        let router = default_router();
        for path in [path, format!("/v1/{grammar}"), format!("/v1/projects/p/locations/l/operations/{grammar}")] {
            if let RouteResult::Matched { bindings, .. } = router.route(&method, &path) {
                prop_assert_eq!(bindings.len(), 1);
            }
        }
    }
}

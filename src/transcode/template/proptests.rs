//! Properties: a template matches every path it expands to and gives the
//! values back (decoded per variable kind); parsing and matching never
//! panic, whatever the input.

use proptest::prelude::*;

use super::PathTemplate;

/// One piece of a generated template, with the values to expand it with.
#[derive(Clone, Debug)]
enum Part {
    Literal(String),
    Star(String),
    Single(String),
    /// `{f=a/*/b}`: literals (`Ok`) and `*` values (`Err`), in order.
    Multi(Vec<Result<String, String>>),
}

#[derive(Clone, Debug)]
enum Tail {
    None,
    Bare(Vec<String>),
    Variable(Option<String>, Vec<String>),
}

fn literal() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._~-]{1,6}".prop_filter("not a dot segment", |s| s != "." && s != "..")
}

/// Any text for one segment, including characters that need escaping.
fn value() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9]{1,4}", "\\PC{1,8}", "[%/:?#@!$&'()*+,;= .]{1,4}"]
        .prop_filter("not a dot segment", |s| s != "." && s != "..")
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        literal().prop_map(Part::Literal),
        value().prop_map(Part::Star),
        value().prop_map(Part::Single),
        prop::collection::vec(
            prop_oneof![literal().prop_map(Ok), value().prop_map(Err)],
            1..4
        )
        .prop_filter("several segments", |pieces| pieces.len() > 1)
        .prop_map(Part::Multi),
    ]
}

fn tail() -> impl Strategy<Value = Tail> {
    let segments = || prop::collection::vec(value(), 0..3);
    prop_oneof![
        Just(Tail::None),
        segments().prop_map(Tail::Bare),
        (prop::option::of(literal()), segments()).prop_map(|(prefix, s)| Tail::Variable(prefix, s)),
    ]
}

/// Escapes all but the unreserved characters, as a client does for a
/// one-segment variable.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// What a multi-segment variable gives back for one escaped segment: the
/// reserved characters still escaped, everything else decoded.
fn model_keep_reserved(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if ":/?#[]@!$&'()*+,;=".contains(c) {
                format!("%{:02X}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// (template text, path, expected bindings as (field, value)).
fn expand(
    parts: &[Part],
    tail: &Tail,
    verb: Option<&str>,
) -> (String, String, Vec<(String, String)>) {
    let mut template = String::new();
    let mut path = Vec::new();
    let mut expected = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let field = format!("f{index}");
        match part {
            Part::Literal(text) => {
                template.push_str(&format!("/{text}"));
                path.push(text.clone());
            }
            Part::Star(value) => {
                template.push_str("/*");
                path.push(encode(value));
            }
            Part::Single(value) => {
                template.push_str(&format!("/{{{field}}}"));
                path.push(encode(value));
                expected.push((field, value.clone()));
            }
            Part::Multi(pieces) => {
                let inner: Vec<&str> = pieces
                    .iter()
                    .map(|p| p.as_ref().map_or("*", String::as_str))
                    .collect();
                template.push_str(&format!("/{{{field}={}}}", inner.join("/")));
                let mut values = Vec::new();
                for piece in pieces {
                    match piece {
                        Ok(text) => {
                            path.push(text.clone());
                            values.push(text.clone());
                        }
                        Err(value) => {
                            path.push(encode(value));
                            values.push(model_keep_reserved(value));
                        }
                    }
                }
                expected.push((field, values.join("/")));
            }
        }
    }
    match tail {
        Tail::None => {}
        Tail::Bare(segments) => {
            template.push_str("/**");
            path.extend(segments.iter().map(|s| encode(s)));
        }
        Tail::Variable(prefix, segments) => {
            let mut values: Vec<String> = prefix.iter().cloned().collect();
            values.extend(segments.iter().map(|s| model_keep_reserved(s)));
            match prefix {
                Some(prefix) => template.push_str(&format!("/{{tail={prefix}/**}}")),
                None => template.push_str("/{tail=**}"),
            }
            path.extend(prefix.iter().cloned());
            path.extend(segments.iter().map(|s| encode(s)));
            expected.push(("tail".to_owned(), values.join("/")));
        }
    }
    let mut path = format!("/{}", path.join("/"));
    if let Some(verb) = verb {
        template.push_str(&format!(":{verb}"));
        path.push_str(&format!(":{verb}"));
    }
    (template, path, expected)
}

proptest! {
    #[test]
    fn template_matches_its_expansions_and_returns_the_values(
        parts in prop::collection::vec(part(), 0..5),
        tail in tail(),
        verb in prop::option::of("[a-zA-Z]{1,6}"),
    ) {
        prop_assume!(!parts.is_empty() || !matches!(tail, Tail::None));
        let (text, path, expected) = expand(&parts, &tail, verb.as_deref());
        let template = PathTemplate::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(PathTemplate::parse(&template.to_string()), Ok(template.clone()));
        let bindings = template.matches(&path);
        prop_assert!(bindings.is_some(), "{} does not match {}", text, path);
        let got: Vec<(String, String)> = bindings
            .unwrap_or_default()
            .into_iter()
            .map(|b| (b.field_path.join("."), b.value))
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(super::check_path(&path), Ok(()));
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,40}", grammar in "[/{}*=:.a-z%0-9F]{0,30}") {
        for text in [text, format!("/{grammar}")] {
            if let Ok(template) = PathTemplate::parse(&text) {
                prop_assert_eq!(PathTemplate::parse(&template.to_string()), Ok(template));
            }
        }
    }

    #[test]
    fn matches_and_check_path_never_panic(path in "\\PC{0,40}", grammar in "[/:.a%0-9F]{0,30}") {
        let templates = [
            "/v1/{name=operations/**}:cancel",
            "/{a}/{b=x/*}",
            "/**",
            "/{a=**}:v",
            "/a/*/b",
        ];
        for text in templates {
            let template = PathTemplate::parse(text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for path in [path.clone(), format!("/{grammar}")] {
                let matched = template.matches(&path);
                if matched.is_some() {
                    prop_assert_eq!(super::check_path(&path), Ok(()));
                }
            }
        }
    }
}

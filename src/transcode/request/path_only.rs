//! The most common REST call carries nothing but the path: a GET, a DELETE
//! or a bodiless POST whose request message is the name the URL binds. Its
//! request is encoded straight from the path values with field numbers
//! looked up once per binding, instead of building a dynamic message and
//! walking it to encode. The bytes are the ones the general builder and
//! prost would produce (the tests compare the two), so the RPC cannot tell
//! which way its request was made.

use bytes::BufMut;
use prost::encoding::{WireType, encode_key, encode_varint};
use prost_reflect::Kind;

use crate::transcode::{Binding, PathBinding};

/// How to encode a path-only request of one binding: for each path
/// variable, its position among the template's variables and the number of
/// the string field it sets, in field-number order (the order prost and
/// prost-reflect write fields in).
#[derive(Clone, Debug)]
pub struct PathOnlyPlan {
    fields: Vec<(usize, u32)>,
}

impl PathOnlyPlan {
    /// A plan when every path variable sets a top-level, singular string
    /// field; `None` otherwise (nested paths and other kinds take the
    /// general builder, which also checks and converts values).
    pub fn for_binding(binding: &Binding) -> Option<Self> {
        let input = binding.method.input();
        let mut fields = Vec::new();
        for (position, field_path) in binding.template.variables().iter().enumerate() {
            let [name] = field_path.as_slice() else {
                return None;
            };
            let field = input.get_field_by_name(name)?;
            if field.kind() != Kind::String || field.is_list() || field.is_map() {
                return None;
            }
            fields.push((position, field.number()));
        }
        fields.sort_by_key(|&(_, number)| number);
        Some(Self { fields })
    }

    /// Appends the request message for `path` (the router's bindings, in
    /// template order) to `out`. `false`, with nothing written, when a value
    /// is empty: proto3 leaves an empty string out, a rule the general
    /// builder knows and this one does not need to.
    pub fn encode(&self, path: &[PathBinding], out: &mut impl BufMut) -> bool {
        let value = |position: usize| path.get(position).map(|bound| bound.value.as_bytes());
        let complete = self
            .fields
            .iter()
            .all(|&(position, _)| value(position).is_some_and(|value| !value.is_empty()));
        if !complete {
            return false;
        }
        for &(position, number) in &self.fields {
            let value = value(position).unwrap_or_default();
            encode_key(number, WireType::LengthDelimited, out);
            encode_varint(value.len() as u64, out);
            out.put_slice(value);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use http::Method;
    use proptest::prelude::*;
    use prost::Message as _;

    use super::*;
    use crate::transcode::BodyRule;
    use crate::transcode::request::build_request;
    use crate::transcode::request::testing::binding;
    use crate::transcode::template::PathTemplate;

    fn with_template(method: &str, template: &str) -> Binding {
        let mut binding = binding(method, Method::GET, BodyRule::None, None);
        binding.template = PathTemplate::parse(template).expect("a valid template");
        binding
    }

    fn general(binding: &Binding, path: &str) -> Vec<u8> {
        let bound = binding.template.matches(path).expect("the path matches");
        let (message, _) = build_request(binding, &bound, None, b"", None).expect("builds");
        message.encode_to_vec()
    }

    fn direct(binding: &Binding, path: &str) -> Option<Vec<u8>> {
        let plan = PathOnlyPlan::for_binding(binding)?;
        let bound = binding.template.matches(path).expect("the path matches");
        let mut out = Vec::new();
        plan.encode(&bound, &mut out).then_some(out)
    }

    const GET: &str = "google.longrunning.Operations.GetOperation";
    const SINK: &str = "longrun.test.Kitchen.Sink";

    #[test]
    fn an_operation_name_encodes_as_the_general_builder_does() {
        let binding = with_template(GET, "/v1/{name=projects/*/locations/*/operations/*}");
        for path in [
            "/v1/projects/p/locations/l/operations/op-1",
            "/v1/projects/p%20q/locations/l%2Fm/operations/%E2%9C%93",
        ] {
            assert_eq!(
                direct(&binding, path),
                Some(general(&binding, path)),
                "{path}"
            );
        }
    }

    #[test]
    fn several_variables_are_written_in_field_number_order() {
        // `left` (23) comes before `name` (1) in the template.
        let binding = with_template(SINK, "/v1/{left}/x/{name=a/*}");
        let path = "/v1/l/x/a/n";
        let encoded = direct(&binding, path).expect("a plan");
        assert_eq!(encoded, general(&binding, path));
        assert_eq!(encoded.first(), Some(&0x0a), "field 1 first");
    }

    #[test]
    fn other_kinds_and_nested_fields_have_no_plan() {
        for template in ["/v1/{count}", "/v1/{inner.id}", "/v1/{tags}", "/v1/{blob}"] {
            let binding = with_template(SINK, template);
            assert!(PathOnlyPlan::for_binding(&binding).is_none(), "{template}");
        }
    }

    #[test]
    fn an_empty_value_is_left_to_the_general_builder() {
        let binding = with_template(SINK, "/v1/{name=**}");
        let plan = PathOnlyPlan::for_binding(&binding).expect("a plan");
        let bound = binding
            .template
            .matches("/v1")
            .expect("`**` matches nothing");
        let mut out = Vec::new();
        assert!(!plan.encode(&bound, &mut out));
        assert!(out.is_empty());
    }

    proptest! {
        #[test]
        fn any_name_encodes_as_the_general_builder_does(
            segments in proptest::collection::vec("[a-zA-Z0-9._~%-]{1,12}", 1..5),
        ) {
            let binding = with_template(SINK, "/v1/{name=**}");
            let path = format!("/v1/{}", segments.join("/"));
            // Only paths the router would accept are compared.
            if let Some(bound) = binding.template.matches(&path) {
                let (message, _) = build_request(&binding, &bound, None, b"", None)
                    .expect("a string field takes any text");
                let mut out = Vec::new();
                let plan = PathOnlyPlan::for_binding(&binding).expect("a plan");
                prop_assert!(plan.encode(&bound, &mut out));
                prop_assert_eq!(out, message.encode_to_vec());
            }
        }
    }
}

//! Names and ids from outside, each parsed once into its own type: operation
//! names, parents (`projects/{p}/locations/{l}`, with `-` for every location),
//! client-chosen operation ids and request ids.

use std::fmt;

/// Why a name, id or key was rejected. The message names the offending input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "invalid operation name {0:?}: expected \"projects/{{project}}/locations/{{location}}/operations/{{operation}}\""
    )]
    OperationName(String),
    #[error("invalid parent {0:?}: expected \"projects/{{project}}/locations/{{location}}\"")]
    Parent(String),
    #[error("invalid operation_id {0:?}: must match [a-z]([a-z0-9-]{{0,61}}[a-z0-9])? (AIP-122)")]
    OperationId(String),
    #[error("invalid request_id {0:?}: 1 to 128 printable ASCII characters")]
    RequestId(String),
}

impl NameError {
    /// The text that was rejected.
    pub fn input(&self) -> &str {
        match self {
            NameError::OperationName(text)
            | NameError::Parent(text)
            | NameError::OperationId(text)
            | NameError::RequestId(text) => text,
        }
    }
}

const MAX_SEGMENT: usize = 128;
/// The location that lists across every location of a project (AIP-159).
const ALL_LOCATIONS: &str = "-";

/// A URL-safe resource id segment holds only these bytes: no `/`, no `:`,
/// nothing that percent decoding or path normalisation could change.
fn is_segment_byte(b: u8) -> bool {
    SEGMENT_BYTES[usize::from(b)]
}

/// `is_segment_byte` as a table: every byte of every name in every call is
/// looked up, and one load beats the chain of range tests.
const SEGMENT_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if b == u8::MAX {
            break table;
        }
        b += 1;
    }
};

/// The checks of a segment besides its bytes.
fn has_segment_shape(segment: &str) -> bool {
    !segment.is_empty() && segment.len() <= MAX_SEGMENT && segment != "." && segment != ".."
}

/// The valid segment at the front of `text`, and what follows it: nothing,
/// or a byte no segment holds, such as `/`. One pass over bytes, because
/// every call parses a name and `str::split` with its char searcher cost
/// several times more.
fn leading_segment(text: &str) -> Option<(&str, &str)> {
    let end = text
        .bytes()
        .position(|b| !is_segment_byte(b))
        .unwrap_or(text.len());
    let (segment, rest) = text.split_at_checked(end)?;
    has_segment_shape(segment).then_some((segment, rest))
}

/// Splits `projects/{p}/locations/{l}` off the front of a name; the rest
/// is empty or starts with a byte that no segment holds.
fn parse_parent_segments(name: &str) -> Option<(&str, &str, &str)> {
    let (project, rest) = leading_segment(name.strip_prefix("projects/")?)?;
    let (location, rest) = leading_segment(rest.strip_prefix("/locations/")?)?;
    Some((project, location, rest))
}

/// `projects/{project}/locations/{location}`, the parent of operations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParentName {
    project: String,
    location: String,
}

/// Which locations a List covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocationScope {
    One(String),
    /// `-`: every location of the project.
    All,
}

impl ParentName {
    /// A parent that operations can be created in: a concrete location.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let parent = Self::parse_for_list(text)?;
        if parent.location == ALL_LOCATIONS || text.ends_with("/operations") {
            return Err(NameError::Parent(text.to_owned()));
        }
        Ok(parent)
    }

    /// A parent to list under: `-` is allowed as the location, and a trailing
    /// `/operations` is tolerated because gRPC clients send the collection name.
    pub fn parse_for_list(text: &str) -> Result<Self, NameError> {
        // `-` is a valid segment, so it needs no case of its own here.
        match parse_parent_segments(text) {
            Some((project, location, "" | "/operations")) => Ok(Self {
                project: project.to_owned(),
                location: location.to_owned(),
            }),
            Some(_) | None => Err(NameError::Parent(text.to_owned())),
        }
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn scope(&self) -> LocationScope {
        if self.location == ALL_LOCATIONS {
            LocationScope::All
        } else {
            LocationScope::One(self.location.clone())
        }
    }

    pub fn operation(&self, id: &OperationId) -> OperationName {
        OperationName::from_parts(&self.project, &self.location, id.as_str())
    }
}

impl fmt::Display for ParentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "projects/{}/locations/{}", self.project, self.location)
    }
}

/// `projects/{project}/locations/{location}/operations/{id}`, parsed once at
/// the edge; the store and the authorizer see the same validated value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationName {
    full: String,
    project_end: usize,
    location_range: (usize, usize),
    id_start: usize,
}

impl OperationName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        match operation_name_lengths(text) {
            Some((project, location)) => Ok(Self::assemble(text.to_owned(), project, location)),
            None => Err(NameError::OperationName(text.to_owned())),
        }
    }

    fn from_parts(project: &str, location: &str, id: &str) -> Self {
        let full = format!("projects/{project}/locations/{location}/operations/{id}");
        Self::assemble(full, project.len(), location.len())
    }

    /// `full` is a valid name whose project and location segments have these
    /// lengths: a parsed name is its input, which is already canonical.
    fn assemble(full: String, project_len: usize, location_len: usize) -> Self {
        let project_end = "projects/".len() + project_len;
        let location_start = project_end + "/locations/".len();
        let location_end = location_start + location_len;
        let id_start = location_end + "/operations/".len();
        Self {
            full,
            project_end,
            location_range: (location_start, location_end),
            id_start,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }

    pub fn into_string(self) -> String {
        self.full
    }

    pub fn project(&self) -> &str {
        &self.full["projects/".len()..self.project_end]
    }

    pub fn location(&self) -> &str {
        &self.full[self.location_range.0..self.location_range.1]
    }

    pub fn id(&self) -> &str {
        &self.full[self.id_start..]
    }

    pub fn parent(&self) -> ParentName {
        ParentName {
            project: self.project().to_owned(),
            location: self.location().to_owned(),
        }
    }
}

impl fmt::Display for OperationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// Owned text (a request's field) becomes the name without a copy; on
/// failure the error keeps it.
impl TryFrom<String> for OperationName {
    type Error = NameError;

    fn try_from(text: String) -> Result<Self, NameError> {
        match operation_name_lengths(&text) {
            Some((project, location)) => Ok(Self::assemble(text, project, location)),
            None => Err(NameError::OperationName(text)),
        }
    }
}

/// The lengths of the project and location segments, if `text` is
/// `projects/{project}/locations/{location}/operations/{id}` with a
/// concrete location.
fn operation_name_lengths(text: &str) -> Option<(usize, usize)> {
    let (project, location, rest) = parse_parent_segments(text)?;
    let (_id, "") = leading_segment(rest.strip_prefix("/operations/")?)? else {
        return None;
    };
    (location != ALL_LOCATIONS).then_some((project.len(), location.len()))
}

/// The last segment of an operation name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OperationId(String);

impl OperationId {
    /// An id a client chose: AIP-122 form, so it is safe in URLs and DNS labels.
    pub fn client_chosen(text: &str) -> Result<Self, NameError> {
        let bytes = text.as_bytes();
        let ok = (1..=63).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes.last() != Some(&b'-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(NameError::OperationId(text.to_owned()))
        }
    }

    /// An id the server makes from random bytes: `op-` and 26 base32 characters
    /// (`[a-z2-7]`), 130 bits of randomness.
    pub fn from_random(random: [u8; 17]) -> Self {
        const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        let mut id = String::with_capacity(29);
        id.push_str("op-");
        let mut bits: u32 = 0;
        let mut acc: u32 = 0;
        for byte in random {
            acc = (acc << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 && id.len() < 29 {
                bits -= 5;
                id.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
            }
        }
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A producer's idempotency key for CreateOperation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let ok = (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(NameError::RequestId(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn operation_name_with_all_segments_parses_into_parts() {
        let name = OperationName::parse("projects/p1/locations/us-east1/operations/op-1")
            .expect("valid name");
        assert_eq!(name.project(), "p1");
        assert_eq!(name.location(), "us-east1");
        assert_eq!(name.id(), "op-1");
        assert_eq!(name.parent().to_string(), "projects/p1/locations/us-east1");
    }

    #[test]
    fn operation_name_malformed_is_rejected() {
        for bad in [
            "",
            "operations/x",
            "projects/p/locations/l/operations/",
            "projects/p/locations/l/operations/a/b",
            "projects//locations/l/operations/x",
            "projects/p/locations/-/operations/x",
            "projects/p/locations/l/operations/x:cancel",
            "projects/p/locations/l/operations/..",
            "projects/p/locations/l/operations/a%2Fb",
            "projects/p/locations/l/jobs/x",
            "projects/p/locations/l/operations/ x",
        ] {
            assert!(OperationName::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn parent_for_list_accepts_dash_and_collection_suffix() {
        let all = ParentName::parse_for_list("projects/p/locations/-").expect("dash");
        assert_eq!(all.scope(), LocationScope::All);
        let suffixed =
            ParentName::parse_for_list("projects/p/locations/l/operations").expect("suffix");
        assert_eq!(suffixed.scope(), LocationScope::One("l".into()));
        assert!(ParentName::parse_for_list("projects/p/locations/l/jobs").is_err());
    }

    #[test]
    fn parent_for_create_rejects_dash_location() {
        assert!(ParentName::parse("projects/p/locations/-").is_err());
        assert!(ParentName::parse("projects/p/locations/l/operations").is_err());
        assert!(ParentName::parse("projects/p/locations/l").is_ok());
    }

    #[test]
    fn client_chosen_id_follows_aip_122() {
        for good in ["a", "build-42", "x1"] {
            assert!(OperationId::client_chosen(good).is_ok(), "{good}");
        }
        let too_long = "a".repeat(64);
        for bad in ["", "1abc", "abc-", "ABC", "a_b", "a/b", too_long.as_str()] {
            assert!(OperationId::client_chosen(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn request_id_rejects_empty_spaces_and_overlong() {
        assert!(RequestId::parse("7d8f-11").is_ok());
        assert!(RequestId::parse("").is_err());
        assert!(RequestId::parse("a b").is_err());
        assert!(RequestId::parse(&"x".repeat(129)).is_err());
    }

    fn url_safe(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
    }

    fn is_valid_segment(segment: &str) -> bool {
        has_segment_shape(segment) && segment.bytes().all(url_safe)
    }

    #[test]
    fn segment_byte_table_holds_exactly_the_url_safe_bytes() {
        for b in 0..=u8::MAX {
            assert_eq!(is_segment_byte(b), url_safe(b), "byte {b}");
        }
    }

    /// The grammar as first written, split on `/`: the byte scans must
    /// accept exactly what it accepts.
    fn split_parse(text: &str) -> Option<(bool, Vec<&str>)> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            ["projects", p, "locations", l, "operations", id]
                if is_valid_segment(p) && is_valid_segment(l) && is_valid_segment(id) =>
            {
                Some((true, vec![*p, *l, *id]))
            }
            ["projects", p, "locations", l] | ["projects", p, "locations", l, "operations"]
                if is_valid_segment(p) && is_valid_segment(l) =>
            {
                Some((false, vec![*p, *l]))
            }
            _ => None,
        }
    }

    fn name_like() -> impl Strategy<Value = String> {
        let part = || {
            prop_oneof![
                Just("projects".to_owned()),
                Just("locations".to_owned()),
                Just("operations".to_owned()),
                Just("-".to_owned()),
                Just("..".to_owned()),
                "[a-z0-9._~:% -]{0,4}",
                "\\PC{0,2}",
            ]
        };
        let shaped = (part(), part(), part(), 0..4usize).prop_map(|(p, l, id, tail)| {
            let tail = ["", "/operations", "/operations/", "/operations/x/"][tail];
            format!("projects/{p}/locations/{l}{tail}{id}")
        });
        let loose = prop::collection::vec(part(), 0..8).prop_map(|parts| parts.join("/"));
        prop_oneof![shaped, loose]
    }

    proptest! {
        #[test]
        fn server_made_ids_are_url_safe_and_valid_names(random in any::<[u8; 17]>()) {
            let id = OperationId::from_random(random);
            prop_assert_eq!(id.as_str().len(), 29);
            prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            let parent = ParentName::parse("projects/p/locations/l").expect("valid parent");
            let name = parent.operation(&id);
            prop_assert_eq!(OperationName::parse(name.as_str()).expect("round trip"), name);
        }

        #[test]
        fn byte_scan_parsers_agree_with_split_grammar(text in name_like()) {
            let operation = OperationName::parse(&text).ok();
            let parent = ParentName::parse_for_list(&text).ok();
            match split_parse(&text) {
                Some((true, parts)) if parts[1] != "-" => {
                    let name = operation.expect("valid operation name");
                    prop_assert_eq!(vec![name.project(), name.location(), name.id()], parts);
                    prop_assert_eq!(name.as_str(), text.as_str());
                    prop_assert!(parent.is_none());
                }
                Some((false, parts)) => {
                    let parent = parent.expect("valid parent");
                    prop_assert_eq!(vec![parent.project(), parent.location()], parts);
                    prop_assert!(operation.is_none());
                }
                Some((true, _)) | None => {
                    prop_assert!(operation.is_none() && parent.is_none());
                }
            }
            let owned = OperationName::try_from(text.clone());
            prop_assert_eq!(owned, OperationName::parse(&text));
        }

        #[test]
        fn name_parser_never_panics(text in ".{0,80}") {
            let _ = OperationName::parse(&text);
            let _ = ParentName::parse_for_list(&text);
        }
    }
}

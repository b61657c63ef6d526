//! The type registry: every message type longrun knows, from its own protos
//! and from the descriptor sets users register (`--descriptor-set`). Used to
//! look inside `Any` payloads (metadata stamping, filters, JSON). Uses only
//! `pb` of the crate, and no tonic or sqlx.

use prost_reflect::{DescriptorError, DescriptorPool, MessageDescriptor};

use crate::pb::FILE_DESCRIPTOR_SET;

#[derive(Clone, Debug)]
pub struct TypeRegistry {
    pool: DescriptorPool,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid descriptor set: {0}")]
    Descriptor(#[from] DescriptorError),
}

/// The prefix of every type URL longrun writes: `type.googleapis.com/pkg.Msg`.
/// Readers take any prefix (the message name is what follows the last `/`).
pub const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

/// The type URL of the message `full_name`.
pub fn type_url(full_name: &str) -> String {
    format!("{TYPE_URL_PREFIX}{full_name}")
}

/// The message name in a type URL: what follows its last `/`.
pub fn type_name(type_url: &str) -> &str {
    type_url.rsplit_once('/').map_or(type_url, |(_, name)| name)
}

/// Packages whose messages are plumbing, never operation metadata.
const INFRASTRUCTURE_PACKAGES: &[&str] = &[
    "google.protobuf",
    "google.api",
    "google.rpc",
    "google.longrunning",
];

impl TypeRegistry {
    /// longrun's own types (and the well-known types they import).
    pub fn builtin() -> Result<Self, RegistryError> {
        Ok(Self {
            pool: DescriptorPool::decode(FILE_DESCRIPTOR_SET)?,
        })
    }

    /// Adds a user's encoded `FileDescriptorSet`.
    pub fn add_descriptor_set(&mut self, bytes: &[u8]) -> Result<(), RegistryError> {
        self.pool.decode_file_descriptor_set(bytes)?;
        Ok(())
    }

    pub fn pool(&self) -> &DescriptorPool {
        &self.pool
    }

    /// The message for an `Any` type URL (`type.googleapis.com/pkg.Msg`).
    pub fn message_for_type_url(&self, type_url: &str) -> Option<MessageDescriptor> {
        self.pool.get_message_by_name(type_name(type_url))
    }

    /// Messages that may be operation metadata: everything but plumbing.
    pub fn candidate_metadata_types(&self) -> impl Iterator<Item = MessageDescriptor> + '_ {
        self.pool
            .all_messages()
            .filter(|message| !INFRASTRUCTURE_PACKAGES.contains(&message.package_name()))
    }
}

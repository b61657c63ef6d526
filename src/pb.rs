//! Generated protobuf and gRPC code, one module per proto package. The
//! generated code lives in OUT_DIR; this file only mounts it.

#[expect(clippy::all, clippy::pedantic, missing_docs, reason = "generated code")]
mod generated {
    pub mod google {
        pub mod api {
            tonic::include_proto!("google.api");
        }
        pub mod rpc {
            tonic::include_proto!("google.rpc");
        }
        pub mod longrunning {
            tonic::include_proto!("google.longrunning");
        }
    }
    pub mod longrun {
        pub mod v1 {
            tonic::include_proto!("longrun.v1");
        }
    }
}

pub use generated::google::{api, longrunning, rpc};
pub use generated::longrun::v1 as control;

/// The UPPER_SNAKE name of a `google.rpc.Code` number, from the generated
/// enum: the one table of code names. `None` for a number code.proto lacks.
pub fn code_name(code: i32) -> Option<&'static str> {
    rpc::Code::try_from(code)
        .ok()
        .map(|code| code.as_str_name())
}

/// The encoded `FileDescriptorSet` of every proto longrun serves, with imports
/// and extension options (google.api.http) intact.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/longrun_descriptor.bin"));

pub mod domain;
pub mod pb;

pub mod domain;
pub mod pb;
pub mod store;

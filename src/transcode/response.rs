//! Lands with issue 3.

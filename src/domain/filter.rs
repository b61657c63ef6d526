//! Placeholder: the filter language lands in its own change.

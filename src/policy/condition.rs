//! Condition operators. (Stub: to be written.)

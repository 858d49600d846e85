//! Matching actions, resources and principals. (Stub: to be written.)

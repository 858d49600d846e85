//! The `simulate` command. (Stub: to be written.)

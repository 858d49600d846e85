//! `simulate` end to end. (To be written.)

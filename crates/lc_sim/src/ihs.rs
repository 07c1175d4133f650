//! IBM HTTP Server stand-ins (to be written).

//! The load engine shared by `zen stress` and `zen soak`.

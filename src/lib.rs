//! The Posthaste product: the core plus the plugins shipped with it.

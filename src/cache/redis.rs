//! Redis backend (feature `redis`): filled in by the Redis issue.

//! Chapter 9's job queue, for its listings (the Redis server they start is
//! `support::redis_server`). The book shows its source by file and anchor,
//! and every listing of the chapter is measured again when it changes.

pub mod queue;

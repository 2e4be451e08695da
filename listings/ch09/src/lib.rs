//! Chapter 9's Redis server and job queue, for its listings. The book shows
//! their source by file and anchor, and every listing of the chapter is
//! measured again when they change.

pub mod queue;
pub mod redis_server;

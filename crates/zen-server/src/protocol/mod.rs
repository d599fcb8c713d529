//! MCP's rules, in one place, each beside the section of the specification it comes from
//! (`<revision>/<page>#<anchor>` under <https://modelcontextprotocol.io/specification/>):
//! - [`versions`]: which revisions zen serves, and what `initialize` agrees to;
//! - [`classify`]: which era a request belongs to, over HTTP and on stdio;
//! - [`meta`]: what a modern request must carry in `params._meta`;
//! - [`params`]: a request's params as zen reads them (`_meta` without building the rest);
//! - [`headers`]: what a modern HTTP request must carry in its headers, and the Host and Origin
//!   a request may come with;
//! - [`errors`]: the error codes and, over HTTP, their statuses;
//! - [`shape`]: how a result looks in each era (`resultType`, `serverInfo`, cache hints);
//! - [`logging`]: the log levels, how a client asks for `notifications/message`, and their shape.
//!
//! Every transport answers through [`crate::serve::answer`], which applies these rules, so the
//! same request gives the same bytes over stdio and HTTP, in either era.
pub(crate) mod classify;
pub(crate) mod errors;
pub(crate) mod headers;
pub(crate) mod logging;
pub(crate) mod meta;
pub(crate) mod params;
pub(crate) mod shape;
pub(crate) mod versions;

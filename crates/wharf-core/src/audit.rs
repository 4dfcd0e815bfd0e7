//! The audit log's vocabulary: every action an event can record, written
//! once. Filters (`wharf admin audit --action`) and tests name these.

/// A user logged in on the web; `LOGIN_FAILED` when the password was wrong.
pub const LOGIN: &str = "login";
pub const LOGIN_FAILED: &str = "login.failed";
pub const LOGOUT: &str = "logout";

pub const USER_CREATE: &str = "user.create";
pub const USER_PASSWORD: &str = "user.password";
/// Every web session of a user ended by an administrator.
pub const USER_LOGOUT: &str = "user.logout";

pub const TOKEN_CREATE: &str = "token.create";
pub const TOKEN_REVOKE: &str = "token.revoke";

pub const DEVICE_APPROVE: &str = "device.approve";
pub const DEVICE_DENY: &str = "device.deny";

pub const FILE_UPLOAD: &str = "file.upload";
/// An upload refused before it was stored, with the rule that refused it.
pub const FILE_REFUSED: &str = "file.refused";
pub const FILE_PUBLISHED: &str = "file.published";
pub const FILE_QUARANTINED: &str = "file.quarantined";
pub const FILE_RELEASED: &str = "file.released";
pub const FILE_REJECTED: &str = "file.rejected";

pub const RELEASE_YANK: &str = "release.yank";
pub const RELEASE_UNYANK: &str = "release.unyank";

pub const MCP_PUBLISH: &str = "mcp.publish";
pub const MCP_STATUS: &str = "mcp.status";
pub const MCP_PUBLISHER_ADD: &str = "mcp.publisher_add";
pub const MCP_NAMESPACE_GRANT: &str = "mcp.namespace_grant";
pub const MCP_NAMESPACE_REVOKE: &str = "mcp.namespace_revoke";
/// An administrator held a catalog version, or released one.
pub const MCP_HOLD: &str = "mcp.hold";
pub const MCP_RELEASE: &str = "mcp.release";
/// An administrator ran the sync of upstream registries.
pub const MCP_SYNC: &str = "mcp.sync";

pub const DEPLOYMENT_CREATE: &str = "deployment.create";
pub const DEPLOYMENT_DELETE: &str = "deployment.delete";
/// A runner read a deployment's credentials.
pub const DEPLOYMENT_SECRETS_READ: &str = "deployment.secrets_read";

pub const VAULT_ROTATE_KEY: &str = "vault.rotate_key";

/// Someone without the admin role and scope tried an admin route.
pub const ADMIN_DENIED: &str = "admin.denied";
pub const ADMIN_AUDIT_READ: &str = "admin.audit_read";

/// The proxy fetched a file from upstream (its verdict follows as
/// `FILE_PUBLISHED` or `FILE_QUARANTINED`).
pub const PROXY_FETCH: &str = "proxy.fetch";
/// A file from upstream did not match the hash its page declared.
pub const PROXY_HASH_MISMATCH: &str = "proxy.hash_mismatch";
/// A file from upstream was refused by the archive checks and not stored.
pub const PROXY_REFUSED: &str = "proxy.refused";
pub const PROXY_RULE_ADD: &str = "proxy.rule.add";
pub const PROXY_RULE_REMOVE: &str = "proxy.rule.remove";

/// An npm version published (its tarball's upload is `file.upload` too).
pub const NPM_PUBLISH: &str = "npm.publish";
/// A dist-tag set or removed.
pub const NPM_DIST_TAG: &str = "npm.dist_tag";
pub const NPM_DEPRECATE: &str = "npm.deprecate";
/// A version unpublished; its number is never reused.
pub const NPM_UNPUBLISH: &str = "npm.unpublish";
pub const NPM_OWNER_ADD: &str = "npm.owner_add";
pub const NPM_OWNER_REMOVE: &str = "npm.owner_remove";

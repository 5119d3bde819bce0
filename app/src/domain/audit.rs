//! The audit log (nhật ký quản trị): who did what, from where. Append-only in storage.

use serde::{Deserialize, Serialize};

/// Who acted: an account, the command line, or a device; and from which address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    /// The `hailong` command on the server itself.
    pub fn cli() -> Self {
        Self { name: "cli".into(), ip: None }
    }

    pub fn new(name: impl Into<String>, ip: Option<std::net::IpAddr>) -> Self {
        Self { name: name.into(), ip: ip.map(|ip| ip.to_string()) }
    }
}

macro_rules! audit_actions {
    ($($variant:ident = $code:literal, $label:literal;)*) => {
        /// Everything the audit log records.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum AuditAction { $($variant,)* }

        impl AuditAction {
            pub const ALL: &'static [AuditAction] = &[$(Self::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)* }
            }

            pub fn label(self) -> &'static str {
                match self { $(Self::$variant => $label,)* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|a| a.as_str() == s)
            }
        }
    };
}

audit_actions! {
    Init = "init", "Khởi tạo hệ thống";
    LoginSucceeded = "login.success", "Đăng nhập";
    LoginFailed = "login.failure", "Đăng nhập sai";
    PasswordChanged = "password.change", "Đổi mật khẩu";
    UserAdded = "user.add", "Tạo tài khoản";
    UserUpdated = "user.update", "Sửa vai trò, đơn vị của tài khoản";
    UserDisabled = "user.disable", "Khóa tài khoản";
    UserEnabled = "user.enable", "Mở khóa tài khoản";
    PasswordReset = "user.reset_password", "Cấp lại mật khẩu";
    UsersImported = "user.import", "Nhập danh sách tài khoản";
    ApiKeyAdded = "apikey.add", "Tạo khóa API";
    ApiKeyRevoked = "apikey.revoke", "Thu hồi khóa API";
    KioskAdded = "kiosk.add", "Đăng ký kiosk";
    KioskPaired = "kiosk.pair", "Ghép nối kiosk";
    KioskPairingFailed = "kiosk.pair_failure", "Nhập sai mã ghép nối";
    KioskRepairing = "kiosk.repair", "Cấp mã ghép nối lại";
    KioskUpdated = "kiosk.update", "Đổi tên, chuyển kiosk";
    KioskRevoked = "kiosk.revoke", "Thu hồi kiosk";
    AgenciesImported = "agency.import", "Nhập danh mục đơn vị";
    AgencySaved = "agency.save", "Thêm, sửa đơn vị";
    AgencyClosed = "agency.close", "Đóng đơn vị (sáp nhập, chia tách)";
    ProcedureSaved = "procedure.save", "Sửa danh mục thủ tục";
    InvitationCreated = "invitation.create", "Tạo lời mời khảo sát";
    InvitationShown = "invitation.show", "Xem, in lại đường dẫn khảo sát";
    InvitationSent = "invitation.send", "Gửi đường dẫn khảo sát qua SMS, e-mail";
    InvitationOverLimit = "invitation.over_limit", "Tạo lời mời vượt mức trong ngày (bị từ chối)";
    DeliverySentByHand = "delivery.sent_by_hand", "Đánh dấu đã gửi thủ công";
    Exported = "export", "Xuất dữ liệu";
    CommentApproved = "comment.approve", "Duyệt ý kiến";
    CommentHidden = "comment.hide", "Ẩn ý kiến";
    DossiersEntered = "dossiers.enter", "Nhập số hồ sơ đã giải quyết";
}

/// One line of the log, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// UTC, RFC 3339.
    pub at: String,
    pub actor: String,
    pub ip: Option<String>,
    pub action: AuditAction,
    pub subject: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_have_distinct_codes() {
        let mut codes = std::collections::HashSet::new();
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
            assert!(codes.insert(action.as_str()), "{action:?}");
            assert!(!action.label().is_empty());
        }
        assert_eq!(AuditAction::parse("user.delete"), None);
    }
}

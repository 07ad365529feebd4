//! Every route of `routes::table()` × every role. The table is what the router is built
//! from, so a new route is covered here the moment it exists; a new path parameter fails
//! this test until it is given a value below.

use crate::kit::{Backend, Client, Kit};
use mamori_domain::auth::Role;
use mamori_domain::job::Job;
use mamori_web::routes::{Access, table};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    InstallationAdmin,
    Member(Role),
}

/// Whether the response says "allowed" (anything but a refusal or a bounce to login).
fn allowed(r: &crate::kit::Resp) -> bool {
    let bounced = (300..400).contains(&r.status) && r.location() == "/login";
    !(r.status == 401 || r.status == 403 || bounced)
}

fn expected(access: Access, who: Who) -> Option<bool> {
    Some(match (access, who) {
        // Open to all by design; what they do (setup once, login, health) is tested in
        // security.rs and the CLI tests. Tokens: the API part below; pending sessions:
        // security.rs.
        (Access::Public | Access::PreAuth | Access::Api(_) | Access::MfaPending, _) => return None,
        (Access::AnySession | Access::Authenticated, Who::Anonymous) => false,
        (Access::AnySession | Access::Authenticated, _) => true,
        (Access::InstallationAdmin, w) => w == Who::InstallationAdmin,
        (Access::Institution(_), Who::Anonymous) => false,
        (Access::Institution(_), Who::InstallationAdmin) => true,
        (Access::Institution(p), Who::Member(role)) => role.allows(p),
    })
}

#[test]
fn every_route_checks_every_role() {
    let kit = Kit::start(Backend::Sqlite);
    let a = kit.institution("Aクリニック");
    let admin = kit.user("admin1", true, &[]);
    let members: Vec<_> =
        Role::ALL.into_iter().map(|r| (r, kit.user(&format!("member-{}", r.as_str()), false, &[(a, r)]))).collect();
    let target = kit.user("target1", false, &[(a, Role::Auditor)]);
    let job = Job::new(Some(a.institution()), "audit-verify", serde_json::Value::Null, "test");
    kit.rt.block_on(kit.store.insert_job(&job)).unwrap();
    let token_id = {
        kit.token(&admin, None, None);
        kit.rt.block_on(kit.store.list_api_tokens(Some(admin.user.id))).unwrap()[0].id
    };

    let fill = |path: &str| -> String {
        let mut out = path.to_owned();
        for (param, value) in [
            ("{inst}", a.institution().to_string()),
            ("{job}", job.id.to_string()),
            ("{id}", job.id.to_string()),
            ("{user}", target.user.id.to_string()),
            ("{token}", token_id.to_string()),
            ("{file}", "mamori.css".to_owned()),
            ("{lang}", "en".to_owned()),
            ("{kind}", "assets".to_owned()),
            ("{upload}", "no-such-upload".to_owned()),
            ("{fy}", "2025".to_owned()),
            ("{form}", "clinic".to_owned()),
            ("{vendor}", job.id.to_string()),
        ] {
            out = out.replace(param, &value);
        }
        assert!(!out.contains('{'), "the matrix has no value for a parameter of {path}: add one");
        out
    };

    let mut clients: Vec<(Who, Client)> =
        vec![(Who::Anonymous, kit.client()), (Who::InstallationAdmin, kit.login(&admin))];
    for (role, u) in &members {
        clients.push((Who::Member(*role), kit.login(u)));
    }

    let routes = table();
    assert!(routes.len() > 30, "the whole table is walked");
    let mut checked = 0;
    let mut failures = Vec::new();
    // GETs first, then POSTs (with empty forms: handlers refuse them without changing
    // anything), and logout last so the sessions stay alive for the rest.
    let mut order: Vec<_> = routes.iter().collect();
    order.sort_by_key(|r| (r.method != axum::http::Method::GET, r.path == "/logout"));
    for route in order {
        let path = fill(route.path);
        for (who, client) in clients.iter_mut() {
            let Some(expect) = expected(route.access, *who) else { continue };
            if route.path == "/logout" && *who != Who::Anonymous {
                continue;
            }
            let r = if route.method == axum::http::Method::GET { client.get(&path) } else { client.post(&path, &[]) };
            checked += 1;
            if allowed(&r) != expect {
                failures.push(format!(
                    "{} {} as {who:?}: got {} (expected {})",
                    route.method,
                    route.path,
                    r.status,
                    if expect { "allowed" } else { "denied" }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} wrong answers:\n{}", failures.len(), failures.join("\n"));
    assert!(checked > 120, "only {checked} checks ran");

    // The API: cookies alone never work; tokens carry their user's rights.
    let api_routes: Vec<_> = routes.iter().filter(|r| matches!(r.access, Access::Api(_))).collect();
    assert!(!api_routes.is_empty());
    let admin_client = &clients[1].1;
    for route in &api_routes {
        let path = fill(route.path);
        let r = admin_client.api(route.method.as_str(), &path, None);
        assert_eq!(r.status, 401, "{} {} with only a session cookie", route.method, route.path);
    }
    let auditor_token = kit.token(&members.iter().find(|(r, _)| *r == Role::Auditor).unwrap().1, None, None);
    let vendor_token = kit.token(&members.iter().find(|(r, _)| *r == Role::Vendor).unwrap().1, None, None);
    let c = kit.client();
    let audit_path = fill("/api/v1/institutions/{inst}/audit");
    assert_eq!(c.api("GET", &audit_path, Some(&auditor_token)).status, 200);
    assert_eq!(c.api("GET", &audit_path, Some(&vendor_token)).status, 403);
    assert_eq!(c.api("GET", &fill("/api/v1/jobs/{id}"), Some(&auditor_token)).status, 200);
    assert_eq!(
        c.api("POST", &fill("/api/v1/jobs/{id}/cancel"), Some(&auditor_token)).status,
        403,
        "an auditor cannot cancel"
    );
    assert_eq!(c.api("GET", &fill("/api/v1/jobs/{id}"), Some(&vendor_token)).status, 404, "a vendor does not see jobs");
    // Installation-wide jobs: an administrator's token capped at 閲覧者 may look, not cancel.
    let system_job = Job::new(None, "audit-verify", serde_json::Value::Null, "test");
    kit.rt.block_on(kit.store.insert_job(&system_job)).unwrap();
    let capped = kit.token(&admin, None, Some(Role::Auditor));
    assert_eq!(c.api("GET", &format!("/api/v1/jobs/{}", system_job.id), Some(&capped)).status, 200);
    assert_eq!(c.api("POST", &format!("/api/v1/jobs/{}/cancel", system_job.id), Some(&capped)).status, 403);
    let full = kit.token(&admin, None, None);
    assert_eq!(c.api("POST", &format!("/api/v1/jobs/{}/cancel", system_job.id), Some(&full)).status, 202);
}

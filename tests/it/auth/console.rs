//! With authentication on, the console's page loads without a token (it
//! holds no data: it asks for one), while the API it calls still refuses.

use http::{Method, StatusCode};

use super::support::*;

#[tokio::test]
async fn console_page_needs_no_token_but_its_api_calls_do() {
    let server = SecureServer::start().await;
    let addr = server.server.public_addr;
    let page = rest(addr, Method::GET, "/console/", &[], None, false).await;
    assert_eq!(page.status, StatusCode::OK);
    let list = rest(
        addr,
        Method::GET,
        "/v1/projects/p1/locations/l1/operations",
        &[],
        None,
        false,
    )
    .await;
    assert_eq!(list.status, StatusCode::UNAUTHORIZED);
    assert!(
        list.challenge().starts_with("Bearer"),
        "{}",
        list.challenge()
    );
    assert_eq!(server.store_calls(), 0);
}

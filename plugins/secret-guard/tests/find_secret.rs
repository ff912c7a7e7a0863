use posthaste_secret_guard::find_secret;

#[test]
fn finds_keys_and_tokens() {
    assert_eq!(
        find_secret("creds: AKIAIOSFODNN7EXAMPLE ok"),
        Some("an AWS access key")
    );
    assert_eq!(
        find_secret("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA"),
        Some("a private key")
    );
    assert_eq!(
        find_secret("token ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
        Some("a GitHub token")
    );
}

#[test]
fn leaves_ordinary_text_alone() {
    assert_eq!(
        find_secret("AKIA is a prefix; a PRIVATE KEY----- header"),
        None
    );
    assert_eq!(find_secret("the ghp_ prefix means GitHub"), None);
    assert_eq!(find_secret(""), None);
}

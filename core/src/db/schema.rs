//! The one schema both backends share (see migrations/sqlite and migrations/mysql).

diesel::table! {
    users (id) {
        id -> Integer,
        username -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        notify_mention -> Bool,
        notify_reply_post -> Bool,
        notify_reply_reply -> Bool,
    }
}

diesel::table! {
    posts (id) {
        id -> Integer,
        author_id -> Integer,
        parent_id -> Nullable<Integer>,
        thread_id -> Integer,
        title -> Nullable<Text>,
        body_md -> Text,
        body_html -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Nullable<Integer>,
        state -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Integer,
        login -> Text,
        ip -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mentions (id) {
        id -> Integer,
        post_id -> Integer,
        user_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Integer,
        kind -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        run_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tokens (id) {
        id -> Integer,
        kind -> Text,
        token_hash -> Text,
        user_id -> Nullable<Integer>,
        email -> Text,
        created_by -> Nullable<Integer>,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(posts -> users (author_id));
diesel::joinable!(mentions -> posts (post_id));
diesel::joinable!(sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    posts,
    sessions,
    login_failures,
    mentions,
    jobs
);

diesel::table! {
    plugin_states (name) {
        name -> Text,
        enabled -> Bool,
        updated_at -> Timestamp,
    }
}

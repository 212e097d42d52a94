vcl 4.1;
# The peer of bench/run.sh: Varnish in front of Hearth, caching each signed-in member's
# answers by URL and session cookie. Accept-Encoding goes to Hearth as the client sent it
# (varnishd runs with http_gzip_support=off) and Hearth's `Vary: accept-encoding` keeps one
# object per encoding. BACKEND_PORT is replaced by the script.

backend hearth {
    .host = "127.0.0.1";
    .port = "BACKEND_PORT";
}

sub vcl_recv {
    if (req.method != "GET") {
        return (pass);
    }
    # Cached despite the cookie: the session is part of the key.
    return (hash);
}

sub vcl_hash {
    hash_data(req.url);
    if (req.http.Cookie ~ "hearth_session=") {
        hash_data(regsub(req.http.Cookie, "^.*hearth_session=([^;]*).*$", "\1"));
    }
    return (lookup);
}

sub vcl_backend_response {
    # Hearth marks its answers `private, no-cache`; the peer keeps them for the run.
    set beresp.ttl = 1h;
    set beresp.grace = 0s;
    return (deliver);
}

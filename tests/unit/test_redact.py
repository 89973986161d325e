def test_references_lists_the_keys_each_provider_serves() -> None:
    from connshift.core.redact import references

    config = {
        "database.password": "${file:/s/db.properties:password}",
        "database.user": "${vault:secret/db:user}",
        "sasl.jaas.config": "x password=${file:/s/k.properties:p} y=${vault:a:b}",
        "database.hostname": "db",
    }
    assert references(config) == {
        "file": ["database.password", "sasl.jaas.config"],
        "vault": ["database.user", "sasl.jaas.config"],
    }
    assert references({"a": "plain"}) == {}


def test_secrets_inside_values_are_scrubbed_and_references_kept() -> None:
    from connshift.core.redact import redact, scrub

    assert scrub("jdbc:postgresql://db:5432/x?user=app&password=s3cr3t&ssl=true") == (
        "jdbc:postgresql://db:5432/x?user=app&password=***&ssl=true"
    )
    assert scrub("https://app:s3cr3t@hooks.example/ping") == "https://app:***@hooks.example/ping"
    assert scrub("Server=db;User Id=a;Pwd=s3cr3t;") == "Server=db;User Id=a;Pwd=***;"
    assert scrub("http://db:5432/x") == "http://db:5432/x"  # a port is not a password
    assert scrub("password=${file:/s/db.properties:password}") == (
        "password=${file:/s/db.properties:password}"
    )
    out = redact({"connection.url": "jdbc:mysql://h/db?password=s3cr3t", "topic": "t"})
    assert out == {"connection.url": "jdbc:mysql://h/db?password=***", "topic": "t"}

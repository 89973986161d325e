

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

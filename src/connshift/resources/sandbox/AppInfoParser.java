package org.apache.kafka.common.utils;

/**
 * Compatibility shim built by connshift for the sandbox: Kafka 4.4 moved AppInfoParser to
 * org.apache.kafka.common.utils.internals, but connect-file 4.3.1 (the newest served; 4.4.0 is
 * not) still calls the old class. Placed only in that plugin directory.
 */
public final class AppInfoParser {
    private AppInfoParser() {}
    public static String getVersion() {
        return org.apache.kafka.common.utils.internals.AppInfoParser.getVersion();
    }
    public static String getCommitId() {
        return org.apache.kafka.common.utils.internals.AppInfoParser.getCommitId();
    }
}

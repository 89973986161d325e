"""connshift: move a Kafka Connect estate between Kafka clusters, with exact offsets."""

__version__ = "0.1.0"

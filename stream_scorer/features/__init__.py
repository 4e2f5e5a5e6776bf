"""Feature parsing: Kafka record values -> typed feature columns, with a reason per bad row.

JSON is the first format (`json_parser.parse_json`); the parser is the seam for CSV or Avro.
"""

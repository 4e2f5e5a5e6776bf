"""Input decoders: Kafka record values -> model inputs, with a reason per bad row.

Every format implements `base.Decoder`; `factory.build_decoder` picks the one
`features.format` names. JSON objects (`json_parser`) are the first format.
"""

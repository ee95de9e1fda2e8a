//! MQTT connector (to be written)

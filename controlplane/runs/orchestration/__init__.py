"""The server owns run state: clients propose, an ordered list of small rules decides."""

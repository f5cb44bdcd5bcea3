"""(being written) IP address management."""


class Ipam:
    def __init__(self, db):
        self.db = db

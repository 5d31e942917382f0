"""gasgrid.transient"""

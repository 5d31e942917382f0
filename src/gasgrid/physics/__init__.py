"""gasgrid.physics"""

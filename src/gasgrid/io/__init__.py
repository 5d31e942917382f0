"""gasgrid.io"""

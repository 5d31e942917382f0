"""gasgrid.steady"""

"""gasgrid.cases"""

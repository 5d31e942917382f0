"""gasgrid.analysis"""

"""gasgrid.report"""

"""Help for someone in danger: spotting words of crisis, the crisis guide (resources and
texts) and the interrupt with its next steps, /safety, /safetyplan and /discreet.
"""
